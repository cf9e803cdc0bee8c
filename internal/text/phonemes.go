package text

import (
	"unicode/utf8"
)

// The 38 rules of addok-fr's phonemicize, in its order, each a global regex
// substitution in Python's re. Go's regexp has neither look-arounds nor
// back-references, so every rule is a hand-written scanner. Python's
// re.sub matches against the rule's input, never against text it already
// rewrote: look-behinds below therefore read src, and a match resumes the
// scan after its own end. No rule lengthens the token, so two buffers of the
// token's size suffice for the whole chain.
//
// A rule is skipped outright when the token lacks a letter every match of
// it needs (mask test), which keeps the common case to a handful of scans.

// Phonemicize is addok-fr's phonemicize on one token (no whitespace): the
// 38 rules applied in order.
func Phonemicize(s string) string {
	if s == "" {
		return s
	}
	var b1, b2 [48]byte
	var cur, alt []byte
	if len(s) <= len(b1) {
		cur = append(b1[:0], s...)
		alt = b2[:0]
	} else {
		cur = []byte(s)
		alt = make([]byte, 0, len(s))
	}
	m := letterMask(cur)
	changed := false
	for r := 0; r < len(phonemeRules); r++ {
		need := phonemeRules[r]
		if need.all&m != need.all || (need.any != 0 && need.any&m == 0) {
			continue
		}
		out, ok := applyRule(r, alt[:0], cur)
		if !ok {
			continue
		}
		alt, cur = cur[:0], out
		m = letterMask(cur)
		changed = true
	}
	if !changed {
		return s
	}
	// Most rules only drop a final letter: reuse the input's storage when
	// the result is one of its prefixes.
	if len(cur) <= len(s) && string(cur) == s[:len(cur)] {
		return s[:len(cur)]
	}
	return string(cur)
}

// Bits of letterMask: one per letter a-z, then one for ASCII digits.
const digitBit = 1 << 26

func bit(c byte) uint32 { return 1 << (c - 'a') }

func bits(letters string) uint32 {
	var m uint32
	for i := 0; i < len(letters); i++ {
		m |= bit(letters[i])
	}
	return m
}

func letterMask(s []byte) uint32 {
	var m uint32
	for _, c := range s {
		if 'a' <= c && c <= 'z' {
			m |= 1 << (c - 'a')
		} else if '0' <= c && c <= '9' {
			m |= digitBit
		}
	}
	return m
}

// ruleNeed: a match needs every letter of all and, when any is set, at least
// one letter of any.
type ruleNeed struct{ all, any uint32 }

var phonemeRules = [38]ruleNeed{
	{all: bits("a"), any: bits("mnd")},   // 1  (?<=a)(mp|nd|nt)s?$ -> n
	{all: bits("mp")},                    // 2  ([aeiouy])mp(?=[^aeiouyr]) -> \1n
	{all: bits("ngt")},                   // 3  ngt(?=[aeiouy]) -> nt
	{all: bits("ngt")},                   // 4  ngt -> n
	{all: bits("g"), any: bits("eyi")},   // 5  ((?<=[^g])g|^g)(?=[eyi]) -> j
	{all: bits("gu")},                    // 6  (?<=g)u(?=[aeio]) ->
	{all: bits("eign")},                  // 7  (?<=ei)gn([aeiouy]) -> ni\1
	{all: bits("je")},                    // 8  je([aeiouy]) -> j\1
	{all: bits("c")},                     // 9  c(?=[^hieyw]) -> k
	{all: bits("anc")},                   // 10 anc$ -> an
	{all: bits("c")},                     // 11 ((?<=[^s])ch|(?<=[^0-9])c)$ -> k
	{all: bits("s")},                     // 12 (?<=[aeiouy])s(?=[aeiouy]) -> z
	{all: bits("q")},                     // 13 ((?<=[^0-9])q|^q)u? -> k
	{all: bits("c")},                     // 14 cc(?=[ie]) -> s
	{all: bits("ck")},                    // 15 ck -> k
	{all: bits("ph")},                    // 16 ph -> f
	{all: bits("th")},                    // 17 th$ -> te
	{all: bits("h")},                     // 18 (?<=[^sc0-9])h ->
	{all: bits("h")},                     // 19 ^h(?=.)+ ->
	{all: bits("sc")},                    // 20 sc -> s
	{all: bits("sh")},                    // 21 sh -> ch
	{all: bits("w")},                     // 22 ((?<=[^0-9])w|^w) -> v
	{all: bits("c"), any: bits("eiy")},   // 23 c(?=[eiy]) -> s
	{all: bits("y")},                     // 24 ((?<=[^0-9])y|^y) -> i
	{all: bits("esn")},                   // 25 esn -> en
	{all: bits("eim")},                   // 26 eim( |$) -> aim
	{all: bits("e"), any: bits("ai")},    // 27 (ae|ei)(?=\w) -> e
	{all: bits("oeufs")},                 // 28 oeufs( |$) -> eu
	{all: bits("oe")},                    // 29 oeu?(?=\w) -> eu
	{all: bits("s")},                     // 30 (?<=[^0-9])s$ ->
	{all: bits("ux")},                    // 31 (?<=u)l?x$ ->
	{all: bits("ult")},                   // 32 (?<=u)lt$ -> t
	{any: bits("dg")},                    // 33 (?<=[a-z])[dg]$ ->
	{all: bits("t")},                     // 34 (?<=[^es0-9])t$ ->
	{all: bits("m"), any: bits("pbgft")}, // 35 (?<=[aeiou])(m)(?=[pbgft]) -> n
	{all: bits("e")},                     // 36 (?<=[a-z]{2})(e$) ->
	{all: bits("n"), any: bits("dt")},    // 37 (?<=[aeiouy])n[dt](?=[^aeiouyr]) -> n
	{},                                   // 38 ([a-z])\1+ -> \1
}

// applyRule runs rule r (0-based) on s, writing into d. ok is false when
// the rule does not match, and d is then meaningless.
func applyRule(r int, d, s []byte) ([]byte, bool) {
	switch r {
	case 0:
		return rAMpNdNt(d, s)
	case 1:
		return rVowelMp(d, s)
	case 2:
		return rNgtVowel(d, s)
	case 3:
		return rNgt(d, s)
	case 4:
		return rSoftG(d, s)
	case 5:
		return rGuVowel(d, s)
	case 6:
		return rEiGn(d, s)
	case 7:
		return rJeVowel(d, s)
	case 8:
		return rHardC(d, s)
	case 9:
		return rAncEnd(d, s)
	case 10:
		return rFinalC(d, s)
	case 11:
		return rVowelSVowel(d, s)
	case 12:
		return rQu(d, s)
	case 13:
		return rCcIE(d, s)
	case 14:
		return rPair(d, s, 'c', 'k', "k")
	case 15:
		return rPair(d, s, 'p', 'h', "f")
	case 16:
		return rThEnd(d, s)
	case 17:
		return rSilentH(d, s)
	case 18:
		return rLeadingH(d, s)
	case 19:
		return rPair(d, s, 's', 'c', "s")
	case 20:
		return rPair(d, s, 's', 'h', "ch")
	case 21:
		return rNotAfterDigit(d, s, 'w', 'v')
	case 22:
		return rSoftC(d, s)
	case 23:
		return rNotAfterDigit(d, s, 'y', 'i')
	case 24:
		return rEsn(d, s)
	case 25:
		return rEim(d, s)
	case 26:
		return rAeEi(d, s)
	case 27:
		return rOeufs(d, s)
	case 28:
		return rOeu(d, s)
	case 29:
		return rFinalS(d, s)
	case 30:
		return rUlx(d, s)
	case 31:
		return rUlt(d, s)
	case 32:
		return rFinalDG(d, s)
	case 33:
		return rFinalT(d, s)
	case 34:
		return rMBeforeLabial(d, s)
	case 35:
		return rFinalE(d, s)
	case 36:
		return rVowelNdNt(d, s)
	case 37:
		return rDoubles(d, s)
	}
	return d, false
}

func isVowelY(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

func isVowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u':
		return true
	}
	return false
}

func isDigitByte(c byte) bool { return '0' <= c && c <= '9' }

func isLowerAZ(c byte) bool { return 'a' <= c && c <= 'z' }

// wordAt is Python's Unicode \w on the rune starting at s[i]. Tokens are
// ASCII in the pipeline, but Phonemicize is exported.
func wordAt(s []byte, i int) bool {
	if s[i] < utf8.RuneSelf {
		return asciiWord[s[i]]
	}
	r, _ := utf8.DecodeRune(s[i:])
	return isWordRune(r)
}

// replaceEnd rewrites s[from:] into repl.
func replaceEnd(d, s []byte, from int, repl string) ([]byte, bool) {
	d = append(d, s[:from]...)
	return append(d, repl...), true
}

// put appends s[last:i] and the replacement of a match starting at i to d.
// The unanchored rules keep last (the end of their previous match) and hit
// in locals: a struct with pointer methods would make d escape.
func put(d, s []byte, last, i int, repl string) []byte {
	d = append(d, s[last:i]...)
	return append(d, repl...)
}

func putByte(d, s []byte, last, i int, c byte) []byte {
	d = append(d, s[last:i]...)
	return append(d, c)
}

// finish appends the tail after the last match; ok is false without match.
func finish(d, s []byte, last int, hit bool) ([]byte, bool) {
	if !hit {
		return d, false
	}
	return append(d, s[last:]...), true
}

// 1: (?<=a)(mp|nd|nt)s?$ -> n
func rAMpNdNt(d, s []byte) ([]byte, bool) {
	n := len(s)
	pair := func(i int) bool {
		return (s[i] == 'm' && s[i+1] == 'p') || (s[i] == 'n' && (s[i+1] == 'd' || s[i+1] == 't'))
	}
	// The leftmost start wins: with the s first.
	if n >= 4 && s[n-1] == 's' && s[n-4] == 'a' && pair(n-3) {
		return replaceEnd(d, s, n-3, "n")
	}
	if n >= 3 && s[n-3] == 'a' && pair(n-2) {
		return replaceEnd(d, s, n-2, "n")
	}
	return d, false
}

// 2: ([aeiouy])mp(?=[^aeiouyr]) -> \1n
func rVowelMp(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i+3 < len(s); i++ {
		if isVowelY(s[i]) && s[i+1] == 'm' && s[i+2] == 'p' && !isVowelY(s[i+3]) && s[i+3] != 'r' {
			d, last, hit = put(d, s, last, i+1, "n"), i+3, true
			i += 2
		}
	}
	return finish(d, s, last, hit)
}

// 3: ngt(?=[aeiouy]) -> nt
func rNgtVowel(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i+3 < len(s); i++ {
		if s[i] == 'n' && s[i+1] == 'g' && s[i+2] == 't' && isVowelY(s[i+3]) {
			d, last, hit = put(d, s, last, i, "nt"), i+3, true
			i += 2
		}
	}
	return finish(d, s, last, hit)
}

// 4: ngt -> n
func rNgt(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i+2 < len(s); i++ {
		if s[i] == 'n' && s[i+1] == 'g' && s[i+2] == 't' {
			d, last, hit = put(d, s, last, i, "n"), i+3, true
			i += 2
		}
	}
	return finish(d, s, last, hit)
}

// 5: ((?<=[^g])g|^g)(?=[eyi]) -> j
func rSoftG(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i+1 < len(s); i++ {
		if s[i] == 'g' && (i == 0 || s[i-1] != 'g') {
			switch s[i+1] {
			case 'e', 'y', 'i':
				d, last, hit = putByte(d, s, last, i, 'j'), i+1, true
			}
		}
	}
	return finish(d, s, last, hit)
}

// 6: (?<=g)u(?=[aeio]) -> (empty)
func rGuVowel(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 1; i+1 < len(s); i++ {
		if s[i] == 'u' && s[i-1] == 'g' {
			switch s[i+1] {
			case 'a', 'e', 'i', 'o':
				d, last, hit = put(d, s, last, i, ""), i+1, true
			}
		}
	}
	return finish(d, s, last, hit)
}

// 7: (?<=ei)gn([aeiouy]) -> ni\1
func rEiGn(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 2; i+2 < len(s); i++ {
		if s[i] == 'g' && s[i+1] == 'n' && s[i-2] == 'e' && s[i-1] == 'i' && isVowelY(s[i+2]) {
			d, last, hit = put(d, s, last, i, "ni"), i+2, true
			i += 2 // the vowel is kept as is
		}
	}
	return finish(d, s, last, hit)
}

// 8: je([aeiouy]) -> j\1
func rJeVowel(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i+2 < len(s); i++ {
		if s[i] == 'j' && s[i+1] == 'e' && isVowelY(s[i+2]) {
			d, last, hit = put(d, s, last, i+1, ""), i+2, true
			i += 2
		}
	}
	return finish(d, s, last, hit)
}

// 9: c(?=[^hieyw]) -> k
func rHardC(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i+1 < len(s); i++ {
		if s[i] == 'c' {
			switch s[i+1] {
			case 'h', 'i', 'e', 'y', 'w':
			default:
				d, last, hit = putByte(d, s, last, i, 'k'), i+1, true
			}
		}
	}
	return finish(d, s, last, hit)
}

// 10: anc$ -> an
func rAncEnd(d, s []byte) ([]byte, bool) {
	n := len(s)
	if n >= 3 && s[n-3] == 'a' && s[n-2] == 'n' && s[n-1] == 'c' {
		return replaceEnd(d, s, n-1, "")
	}
	return d, false
}

// 11: ((?<=[^s])ch|(?<=[^0-9])c)$ -> k
func rFinalC(d, s []byte) ([]byte, bool) {
	n := len(s)
	if n >= 3 && s[n-2] == 'c' && s[n-1] == 'h' && s[n-3] != 's' {
		return replaceEnd(d, s, n-2, "k")
	}
	if n >= 2 && s[n-1] == 'c' && !isDigitByte(s[n-2]) {
		return replaceEnd(d, s, n-1, "k")
	}
	return d, false
}

// 12: (?<=[aeiouy])s(?=[aeiouy]) -> z
func rVowelSVowel(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 1; i+1 < len(s); i++ {
		if s[i] == 's' && isVowelY(s[i-1]) && isVowelY(s[i+1]) {
			d, last, hit = putByte(d, s, last, i, 'z'), i+1, true
		}
	}
	return finish(d, s, last, hit)
}

// 13: ((?<=[^0-9])q|^q)u? -> k
func rQu(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i < len(s); i++ {
		if s[i] == 'q' && (i == 0 || !isDigitByte(s[i-1])) {
			end := i + 1
			if end < len(s) && s[end] == 'u' {
				end++
			}
			d, last, hit = putByte(d, s, last, i, 'k'), end, true
			i = end - 1
		}
	}
	return finish(d, s, last, hit)
}

// 14: cc(?=[ie]) -> s
func rCcIE(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i+2 < len(s); i++ {
		if s[i] == 'c' && s[i+1] == 'c' && (s[i+2] == 'i' || s[i+2] == 'e') {
			d, last, hit = putByte(d, s, last, i, 's'), i+2, true
			i++
		}
	}
	return finish(d, s, last, hit)
}

// 15, 16, 20, 21: a two-letter literal.
func rPair(d, s []byte, a, b byte, repl string) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i+1 < len(s); i++ {
		if s[i] == a && s[i+1] == b {
			d, last, hit = put(d, s, last, i, repl), i+2, true
			i++
		}
	}
	return finish(d, s, last, hit)
}

// 17: th$ -> te
func rThEnd(d, s []byte) ([]byte, bool) {
	n := len(s)
	if n >= 2 && s[n-2] == 't' && s[n-1] == 'h' {
		return replaceEnd(d, s, n-1, "e")
	}
	return d, false
}

// 18: (?<=[^sc0-9])h -> (empty)
func rSilentH(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 1; i < len(s); i++ {
		if s[i] == 'h' {
			p := s[i-1]
			if p != 's' && p != 'c' && !isDigitByte(p) {
				d, last, hit = put(d, s, last, i, ""), i+1, true
			}
		}
	}
	return finish(d, s, last, hit)
}

// 19: ^h(?=.)+ -> (empty): a leading h followed by anything but a newline.
func rLeadingH(d, s []byte) ([]byte, bool) {
	if len(s) >= 2 && s[0] == 'h' && s[1] != '\n' {
		return append(d, s[1:]...), true
	}
	return d, false
}

// 22, 24: ((?<=[^0-9])x|^x) -> y
func rNotAfterDigit(d, s []byte, from, to byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i < len(s); i++ {
		if s[i] == from && (i == 0 || !isDigitByte(s[i-1])) {
			d, last, hit = putByte(d, s, last, i, to), i+1, true
		}
	}
	return finish(d, s, last, hit)
}

// 23: c(?=[eiy]) -> s
func rSoftC(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i+1 < len(s); i++ {
		if s[i] == 'c' {
			switch s[i+1] {
			case 'e', 'i', 'y':
				d, last, hit = putByte(d, s, last, i, 's'), i+1, true
			}
		}
	}
	return finish(d, s, last, hit)
}

// 25: esn -> en
func rEsn(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i+2 < len(s); i++ {
		if s[i] == 'e' && s[i+1] == 's' && s[i+2] == 'n' {
			d, last, hit = put(d, s, last, i+1, ""), i+2, true
			i += 2
		}
	}
	return finish(d, s, last, hit)
}

// 26: eim( |$) -> aim (the space, when there is one, is consumed)
func rEim(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i+2 < len(s); i++ {
		if s[i] == 'e' && s[i+1] == 'i' && s[i+2] == 'm' {
			if i+3 == len(s) {
				d, last, hit = put(d, s, last, i, "aim"), i+3, true
				break
			}
			if s[i+3] == ' ' {
				d, last, hit = put(d, s, last, i, "aim"), i+4, true
				i += 3
			}
		}
	}
	return finish(d, s, last, hit)
}

// 27: (ae|ei)(?=\w) -> e
func rAeEi(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i+2 < len(s); i++ {
		if ((s[i] == 'a' && s[i+1] == 'e') || (s[i] == 'e' && s[i+1] == 'i')) && wordAt(s, i+2) {
			d, last, hit = putByte(d, s, last, i, 'e'), i+2, true
			i++
		}
	}
	return finish(d, s, last, hit)
}

// 28: oeufs( |$) -> eu
func rOeufs(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i+4 < len(s); i++ {
		if s[i] == 'o' && s[i+1] == 'e' && s[i+2] == 'u' && s[i+3] == 'f' && s[i+4] == 's' {
			if i+5 == len(s) {
				d, last, hit = put(d, s, last, i, "eu"), i+5, true
				break
			}
			if s[i+5] == ' ' {
				d, last, hit = put(d, s, last, i, "eu"), i+6, true
				i += 5
			}
		}
	}
	return finish(d, s, last, hit)
}

// 29: oeu?(?=\w) -> eu. When the u is followed by no word character the
// regex backtracks and the u itself satisfies the look-ahead.
func rOeu(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i+2 < len(s); i++ {
		if s[i] != 'o' || s[i+1] != 'e' {
			continue
		}
		if s[i+2] == 'u' && i+3 < len(s) && wordAt(s, i+3) {
			d, last, hit = put(d, s, last, i, "eu"), i+3, true
			i += 2
		} else if wordAt(s, i+2) {
			d, last, hit = put(d, s, last, i, "eu"), i+2, true
			i++
		}
	}
	return finish(d, s, last, hit)
}

// 30: (?<=[^0-9])s$ -> (empty)
func rFinalS(d, s []byte) ([]byte, bool) {
	n := len(s)
	if n >= 2 && s[n-1] == 's' && !isDigitByte(s[n-2]) {
		return append(d, s[:n-1]...), true
	}
	return d, false
}

// 31: (?<=u)l?x$ -> (empty)
func rUlx(d, s []byte) ([]byte, bool) {
	n := len(s)
	if n >= 3 && s[n-3] == 'u' && s[n-2] == 'l' && s[n-1] == 'x' {
		return append(d, s[:n-2]...), true
	}
	if n >= 2 && s[n-2] == 'u' && s[n-1] == 'x' {
		return append(d, s[:n-1]...), true
	}
	return d, false
}

// 32: (?<=u)lt$ -> t
func rUlt(d, s []byte) ([]byte, bool) {
	n := len(s)
	if n >= 3 && s[n-3] == 'u' && s[n-2] == 'l' && s[n-1] == 't' {
		return replaceEnd(d, s, n-2, "t")
	}
	return d, false
}

// 33: (?<=[a-z])[dg]$ -> (empty)
func rFinalDG(d, s []byte) ([]byte, bool) {
	n := len(s)
	if n >= 2 && (s[n-1] == 'd' || s[n-1] == 'g') && isLowerAZ(s[n-2]) {
		return append(d, s[:n-1]...), true
	}
	return d, false
}

// 34: (?<=[^es0-9])t$ -> (empty)
func rFinalT(d, s []byte) ([]byte, bool) {
	n := len(s)
	if n >= 2 && s[n-1] == 't' {
		p := s[n-2]
		if p != 'e' && p != 's' && !isDigitByte(p) {
			return append(d, s[:n-1]...), true
		}
	}
	return d, false
}

// 35: (?<=[aeiou])(m)(?=[pbgft]) -> n
func rMBeforeLabial(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 1; i+1 < len(s); i++ {
		if s[i] == 'm' && isVowel(s[i-1]) {
			switch s[i+1] {
			case 'p', 'b', 'g', 'f', 't':
				d, last, hit = putByte(d, s, last, i, 'n'), i+1, true
			}
		}
	}
	return finish(d, s, last, hit)
}

// 36: (?<=[a-z]{2})(e$) -> (empty)
func rFinalE(d, s []byte) ([]byte, bool) {
	n := len(s)
	if n >= 3 && s[n-1] == 'e' && isLowerAZ(s[n-2]) && isLowerAZ(s[n-3]) {
		return append(d, s[:n-1]...), true
	}
	return d, false
}

// 37: (?<=[aeiouy])n[dt](?=[^aeiouyr]) -> n
func rVowelNdNt(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 1; i+2 < len(s); i++ {
		if s[i] == 'n' && (s[i+1] == 'd' || s[i+1] == 't') && isVowelY(s[i-1]) && !isVowelY(s[i+2]) && s[i+2] != 'r' {
			d, last, hit = put(d, s, last, i+1, ""), i+2, true
			i++
		}
	}
	return finish(d, s, last, hit)
}

// 38: ([a-z])\1+ -> \1
func rDoubles(d, s []byte) ([]byte, bool) {
	last, hit := 0, false
	for i := 0; i+1 < len(s); i++ {
		c := s[i]
		if !isLowerAZ(c) || s[i+1] != c {
			continue
		}
		j := i + 2
		for j < len(s) && s[j] == c {
			j++
		}
		d, last, hit = put(d, s, last, i+1, ""), j, true
		i = j - 1
	}
	return finish(d, s, last, hit)
}
