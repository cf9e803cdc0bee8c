package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// addok-france's processors. Its regexes use look-arounds and Python's
// backtracking, so each is a hand-written matcher that follows the regex's
// own order of attempts; comments give the pattern reproduced. All matching
// is case-insensitive, as addok-france compiles with re.IGNORECASE.

// streetTypes is addok-france's TYPES (street-type words), each alternative a small
// finite regex.
var streetTypes = []string{
	`aer(odrome)?`, `all([ée]es?)?`, `anc(ien(ne)?)?`, `av(enue)?`,
	`b(oulevar|l?v?)?d`, `b(ou)?cle`, `ber(ges?)?`, `bois`, `c(en)?tre`,
	`c(ou)?rs?`, `c[ôo]te`, `carr?(efour)?`, `ch(am)?p`, `chauss[ée]e`,
	`che?(m(in)?)?`, `cit[ée]`, `clos`, `desserte`, `devi(ation)?`,
	`dig(ue)?`, `dom(aine)?`, `embr(anchement)?`, `espl?(anade)?`, `eta?ng`,
	`éta?ng`, `f(aubour|b|bour)?g`, `giratoire`, `gr(ande?)?`, `gr(e|es|s)?`,
	`ham(eau)?`, `imp(asse)?`, `j[ée]?t[ée]e`, `jard(in)?`,
	`l[ôo]t(issement)?`, `mont`, `mont[ée]e`, `p(arvis|rvs?|vr)?`,
	`p(asserel|l)?le`, `p(lace)?tte`, `p(or)?te`, `parc`, `pas(se)?`,
	`pass(age)?`, `pl(ace)?`, `porte`, `pr[ée]`, `pro?m(enade)?`,
	`q(uart(ier)?|ua|rt(ier)?)`, `qu?(ai)?`, `r(ou)?te`, `r(uel|l)?le`,
	`r(ue)?`, `r[ée]s(idence)?`, `rd?pt`, `rocade`, `rond[- ]point`,
	`sent(e|ier)`, `squ?(are)?`, `t(erra)?sse`, `taillis`, `trav(erse)?`,
	`tunn?(el)?`, `v(il|l)?la`, `via`, `viad(uc)?`, `voie`, `[îi]lot`,
}

// StreetTypes returns addok-france's TYPES patterns, in addok-france's order.
func StreetTypes() []string { return append([]string(nil), streetTypes...) }

// streetTypeSet holds every lowercase string some TYPES alternative matches
// in full; the patterns are finite, so matching a word against the regex
// alternation is a set lookup.
var streetTypeSet, streetTypeMaxLen = func() (map[string]struct{}, int) {
	set := make(map[string]struct{})
	longest := 0
	for _, p := range streetTypes {
		for _, w := range expandFinite(p) {
			set[w] = struct{}{}
			longest = max(longest, len(w))
		}
	}
	return set, longest
}()

// expandFinite lists the strings matched by a regex made only of literals,
// [] classes without ranges, (a|b) groups and the ? quantifier.
func expandFinite(p string) []string {
	rs := []rune(p)
	alts, _ := expandAlt(rs, 0)
	return alts
}

func expandAlt(rs []rune, i int) ([]string, int) {
	var out []string
	for {
		seq, j := expandSeq(rs, i)
		out = append(out, seq...)
		if j < len(rs) && rs[j] == '|' {
			i = j + 1
			continue
		}
		return out, j
	}
}

func expandSeq(rs []rune, i int) ([]string, int) {
	acc := []string{""}
	for i < len(rs) && rs[i] != '|' && rs[i] != ')' {
		var atom []string
		switch rs[i] {
		case '(':
			var j int
			atom, j = expandAlt(rs, i+1)
			i = j + 1 // past ')'
		case '[':
			j := i + 1
			for rs[j] != ']' {
				atom = append(atom, string(rs[j]))
				j++
			}
			i = j + 1
		default:
			atom = []string{string(rs[i])}
			i++
		}
		if i < len(rs) && rs[i] == '?' {
			atom = append(atom, "")
			i++
		}
		next := make([]string, 0, len(acc)*len(atom))
		for _, a := range acc {
			for _, b := range atom {
				next = append(next, a+b)
			}
		}
		acc = next
	}
	return acc, i
}

// isStreetType reports whether w, as a whole and ignoring case, is one of
// the TYPES words.
func isStreetType(w string) bool {
	if len(w) == 0 || len(w) > streetTypeMaxLen+4 {
		return false
	}
	if _, ok := streetTypeSet[w]; ok {
		return true
	}
	var buf [32]byte
	low, ok := lowerInto(buf[:0], w)
	if !ok {
		return false
	}
	_, ok = streetTypeSet[string(low)]
	return ok
}

// lowerInto lower-cases s into b; ok is false when nothing changed.
func lowerInto(b []byte, s string) ([]byte, bool) {
	changed := false
	for _, r := range s {
		l := unicode.ToLower(r)
		if l != r {
			changed = true
		}
		b = utf8.AppendRune(b, l)
	}
	return b, changed
}

// IsStreetType is TYPES_PATTERN.match on one token: a prefix of token is a
// street type word ending on a word boundary.
func IsStreetType(token string) bool {
	// The regex's \b after the alternation only holds at the token's end
	// or before a non-word character; tokens of the pipeline are made of
	// word characters only, so this is the whole-word case.
	if isStreetType(token) {
		return true
	}
	for i, r := range token {
		if i > 0 && !isWordRune(r) {
			if isStreetType(token[:i]) {
				return true
			}
		}
	}
	return false
}

// ordinalWords are ORDINAL_REGEX's words, in the alternation's order; a
// single letter a-z comes last.
var ordinalWords = [...]string{"bis", "ter", "quater", "quinquies", "sexies"}

// foldedOrdinal is addok-france's FOLD.
func foldedOrdinal(w string) (string, bool) {
	switch w {
	case "bis":
		return "b", true
	case "ter":
		return "t", true
	case "quater":
		return "q", true
	case "quinquies":
		return "c", true
	case "sexies":
		return "s", true
	}
	return "", false
}

func isASCIILetter(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// nonWordAt is Python's \b at byte offset i of s when the character before
// i is a word character: the end, or a non-word character.
func nonWordAt(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !isWordRune(r)
}

// IsOrdinal is ORDINAL_PATTERN.match on one token: it starts with bis,
// ter, quater, quinquies, sexies or one letter, followed by a word
// boundary.
func IsOrdinal(token string) bool {
	for _, w := range ordinalWords {
		if len(token) >= len(w) && strings.EqualFold(token[:len(w)], w) && nonWordAt(token, len(w)) {
			return true
		}
	}
	return len(token) > 0 && isASCIILetter(token[0]) && nonWordAt(token, 1)
}

// matchNumber is NUMBER_PATTERN.match (\b\d{1,4}[a-z]?\b) on one token.
func matchNumber(token string) bool {
	// Count leading digits (Unicode \d), up to 5 to know whether more than
	// 4 follow.
	var ends [5]int
	n := 0
	for i, r := range token {
		if n == 5 || !unicode.IsDigit(r) {
			break
		}
		ends[n] = i + utf8.RuneLen(r)
		n++
	}
	if n == 0 {
		return false
	}
	if n > 4 {
		n = 4
	}
	// Greedy \d{1,4} then [a-z]?, backtracking on both.
	for k := n; k >= 1; k-- {
		e := ends[k-1]
		if e < len(token) && isASCIILetter(token[e]) && nonWordAt(token, e+1) {
			return true
		}
		if nonWordAt(token, e) {
			return true
		}
	}
	return false
}

// GlueOrdinal is addok-france's glue_ordinal on token values: a number
// followed by an ordinal that ends the tokens or precedes a street type is
// merged with it ([6 bis] -> [6bis], [241 r rue] -> [241r rue],
// [241 r de] unchanged). Like addok-france, a number directly followed by
// another number is dropped ([12 14 rue] -> [14 rue]).
func GlueOrdinal(tokens []string) []string {
	toks := make([]tok, len(tokens))
	for i, t := range tokens {
		toks[i] = tok{value: t, pos: i}
	}
	toks = glueOrdinal(toks)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.value
	}
	return out
}

// glueOrdinal works in place: it never outputs more tokens than it reads.
func glueOrdinal(toks []tok) []tok {
	// Fast exit: nothing to glue without a number followed by something.
	has := false
	for i := 0; i+1 < len(toks); i++ {
		if IsAllDigits(toks[i].value) {
			has = true
			break
		}
	}
	if !has {
		return toks
	}
	out := toks[:0]
	prev := -1 // index in toks of the pending number, whose slot is not yet overwritten
	var pending tok
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		// Python's neighborhood: an empty next token is falsy.
		hasNext := i+1 < len(toks) && toks[i+1].value != ""
		if hasNext && IsAllDigits(t.value) {
			pending = t
			prev = i
			continue
		}
		if prev >= 0 {
			if IsOrdinal(t.value) && (!hasNext || IsStreetType(toks[i+1].value)) {
				raw := pending.value + t.value
				if strings.IndexByte(raw, ' ') >= 0 {
					raw = strings.ReplaceAll(raw, " ", "")
				}
				t = tok{value: raw, pos: pending.pos, kind: pending.kind}
			} else {
				out = append(out, pending)
			}
			prev = -1
		}
		out = append(out, t)
	}
	return out
}

// FoldOrdinal is addok-france's fold_ordinal: a token made of 1-4 digits
// and an ordinal gets the short ordinal ("60bis" -> "60b", "60BIS" -> "60b",
// "4terre" unchanged). A single-letter ordinal keeps its case, as in
// addok-france.
func FoldOrdinal(s string) string {
	if s == "" {
		// addok-france raises IndexError here; an empty token only comes
		// from a character unidecode erases, and is dropped later.
		return s
	}
	r0, _ := utf8.DecodeRuneInString(s)
	if !isPyDigit(r0) || IsAllDigits(s) {
		return s
	}
	// ^(\d{1,4})(bis|ter|quater|quinquies|sexies|[a-z])$
	n := 0
	e := 0
	for i, r := range s {
		if !unicode.IsDigit(r) {
			e = i
			break
		}
		n++
		if n > 4 {
			return s
		}
	}
	if n == 0 {
		return s
	}
	rest := s[e:]
	if len(rest) == 1 && isASCIILetter(rest[0]) {
		return s
	}
	if !isASCII(rest) {
		return s
	}
	short, ok := foldedOrdinal(strings.ToLower(rest))
	if !ok {
		return s
	}
	if rest[0] == short[0] {
		// "bis" -> "b", "ter" -> "t"...: a prefix, no need to copy.
		return s[:e+1]
	}
	return s[:e] + short
}

// FlagHousenumber is addok-france's flag_housenumber: the index of the
// first token that looks like a number (1-4 digits, maybe a letter) and is
// either the first token or followed by a street type; -1 when none.
func FlagHousenumber(tokens []string) int {
	for i, t := range tokens {
		first := i == 0
		next := i+1 < len(tokens) && tokens[i+1] != "" && IsStreetType(tokens[i+1])
		if (first || next) && matchNumber(t) {
			return i
		}
	}
	return -1
}

func flagHousenumberFrance(toks []tok) {
	for i := range toks {
		t := &toks[i]
		first := t.pos == 0
		if !first && !(i+1 < len(toks) && toks[i+1].value != "" && IsStreetType(toks[i+1].value)) {
			continue
		}
		if matchNumber(t.value) {
			t.kind = KindHousenumber
			return
		}
	}
}

// ExtractAddress is addok-france's extract_address: when the string holds
// "<1-4 digits>[ ordinal][,] <street type> ...", keep it from the number on
// (to the end of the line); otherwise return it unchanged.
//
// Pattern: (\b\d{1,4}( *(ORDINAL))?,? +(TYPES) .*(\d{5})?).*
func ExtractAddress(q string) string {
	for p := 0; p < len(q); {
		r, size := utf8.DecodeRuneInString(q[p:])
		if unicode.IsDigit(r) && (p == 0 || !isWordRune(lastRune(q[:p]))) {
			// Greedy \d{1,4}: with more than 4 digits the next one blocks
			// every continuation, and fewer digits leave a digit next.
			e := p
			n := 0
			for e < len(q) && n < 5 {
				r2, s2 := utf8.DecodeRuneInString(q[e:])
				if !unicode.IsDigit(r2) {
					break
				}
				e += s2
				n++
			}
			if n <= 4 && extractAfterNumber(q, e) {
				end := strings.IndexByte(q[p:], '\n')
				if end < 0 {
					return q[p:]
				}
				return q[p : p+end]
			}
			p = e
			continue
		}
		p += size
	}
	return q
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

// extractAfterNumber matches ( *(ORDINAL))?,? +(TYPES)  from i.
func extractAfterNumber(q string, i int) bool {
	// The optional group first (greedy).
	j := i
	for j < len(q) && q[j] == ' ' {
		j++
	}
	for _, w := range ordinalWords {
		if len(q)-j >= len(w) && strings.EqualFold(q[j:j+len(w)], w) && extractAfterOrdinal(q, j+len(w)) {
			return true
		}
	}
	if j < len(q) && isASCIILetter(q[j]) && extractAfterOrdinal(q, j+1) {
		return true
	}
	return extractAfterOrdinal(q, i)
}

// extractAfterOrdinal matches ,? +(TYPES)  from i.
func extractAfterOrdinal(q string, i int) bool {
	if i < len(q) && q[i] == ',' && extractType(q, i+1) {
		return true
	}
	return extractType(q, i)
}

// extractType matches " +(TYPES) " from i: spaces, then a street type
// followed by a space.
func extractType(q string, i int) bool {
	j := i
	for j < len(q) && q[j] == ' ' {
		j++
	}
	if j == i {
		return false
	}
	limit := j + streetTypeMaxLen*2 // bytes: accents take two
	for k := j + 1; k < len(q) && k <= limit; k++ {
		if q[k] == ' ' && isStreetType(q[j:k]) {
			return true
		}
	}
	return false
}

// rewriter builds the result of a global substitution, copying only once
// the first match is found.
type rewriter struct {
	src  string
	buf  []byte
	last int
	hit  bool
}

func (w *rewriter) replace(start, end int, repl string) {
	if !w.hit {
		w.buf = make([]byte, 0, len(w.src)+8)
		w.hit = true
	}
	w.buf = append(w.buf, w.src[w.last:start]...)
	w.buf = append(w.buf, repl...)
	w.last = end
}

func (w *rewriter) result() string {
	if !w.hit {
		return w.src
	}
	w.buf = append(w.buf, w.src[w.last:]...)
	return string(w.buf)
}

// digitRun returns the end of up to max consecutive Unicode digits from i,
// and how many there were.
func digitRun(s string, i, max int) (int, int) {
	n := 0
	for i < len(s) && n < max {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < '0' || c > '9' {
				break
			}
			i++
			n++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsDigit(r) {
			break
		}
		i += size
		n++
	}
	return i, n
}

// hasPrefixFold reports whether s[i:] starts with the lowercase ASCII word
// w, ignoring case.
func hasPrefixFold(s string, i int, w string) bool {
	return len(s)-i >= len(w) && strings.EqualFold(s[i:i+len(w)], w)
}

// matchCedex matches c(e|é)dex from i (case-insensitive) and returns its
// end, or -1.
func matchCedex(s string, i int) int {
	if i >= len(s) || (s[i] != 'c' && s[i] != 'C') {
		return -1
	}
	j := i + 1
	switch {
	case j < len(s) && (s[j] == 'e' || s[j] == 'E'):
		j++
	case strings.HasPrefix(s[j:], "é") || strings.HasPrefix(s[j:], "É"):
		j += len("é")
	default:
		return -1
	}
	if !hasPrefixFold(s, j, "dex") {
		return -1
	}
	return j + 3
}

// afterCedex consumes " ?[\d]*" from i.
func afterCedex(s string, i int) int {
	if i < len(s) && s[i] == ' ' {
		i++
	}
	e, _ := digitRun(s, i, len(s))
	return e
}

// CleanQuery is addok-france's clean_query: the CLEAN_PATTERNS
// substitutions of addok-france, in its order, then strip().
func CleanQuery(q string) string {
	q = cleanPostcodes(q)
	q = cleanPostBoxes(q)
	if containsCedex(q) {
		q = cleanCedexAfterPostcode(q)
		q = cleanCedex(q)
	}
	q = cleanFloor(q)
	q = collapseSpaces(q)
	q = cleanSlash(q, "s/", " sur ")
	q = cleanSlash(q, "s/s", " sous ")
	q = cleanLieuDit(q)
	return pyStrip(q)
}

func containsCedex(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] == 'c' || s[i] == 'C') && matchCedex(s, i) >= 0 {
			return true
		}
	}
	return false
}

// 1: ([\d]{5}) -> " \1 "
func cleanPostcodes(q string) string {
	w := rewriter{src: q}
	for i := 0; i < len(q); {
		e, n := digitRun(q, i, 5)
		if n == 5 {
			w.replace(i, e, " "+q[i:e]+" ")
			i = e
			continue
		}
		i = nextRune(q, i)
	}
	return w.result()
}

func nextRune(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		return i + 1
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	return i + size
}

// 2: (^| )(b\.?p\.?|cs|tsa|cidex) *(n(o|°|) *|)[\d]+ * -> \1
func cleanPostBoxes(q string) string {
	if !mayHaveDigit(q) {
		return q
	}
	w := rewriter{src: q}
	for i := 0; i < len(q); {
		if i == 0 {
			if e := matchPostBox(q, 0); e >= 0 {
				w.replace(0, e, "")
				i = e
				continue
			}
		}
		if q[i] == ' ' {
			if e := matchPostBox(q, i+1); e >= 0 {
				w.replace(i, e, " ")
				i = e
				continue
			}
		}
		i = nextRune(q, i)
	}
	return w.result()
}

// matchPostBox matches (b\.?p\.?|cs|tsa|cidex) *(n(o|°|) *|)[\d]+ * from
// i; it returns the end or -1.
func matchPostBox(q string, i int) int {
	var starts [4]int
	n := 0
	if i < len(q) && (q[i] == 'b' || q[i] == 'B') {
		j := i + 1
		if j < len(q) && q[j] == '.' {
			j++
		}
		if j < len(q) && (q[j] == 'p' || q[j] == 'P') {
			j++
			if j < len(q) && q[j] == '.' {
				j++
			}
			starts[n] = j
			n++
		}
	}
	for _, w := range [...]string{"cs", "tsa", "cidex"} {
		if hasPrefixFold(q, i, w) {
			starts[n] = i + len(w)
			n++
		}
	}
	for _, j := range starts[:n] {
		if e := matchPostBoxNumber(q, j); e >= 0 {
			return e
		}
	}
	return -1
}

// matchPostBoxNumber matches  *(n(o|°|) *|)[\d]+ * from j.
func matchPostBoxNumber(q string, j int) int {
	for j < len(q) && q[j] == ' ' {
		j++
	}
	digitsFrom := func(k int) int {
		e, n := digitRun(q, k, len(q))
		if n == 0 {
			return -1
		}
		for e < len(q) && q[e] == ' ' {
			e++
		}
		return e
	}
	if j < len(q) && (q[j] == 'n' || q[j] == 'N') {
		k := j + 1
		var afters [3]int
		m := 0
		if k < len(q) && (q[k] == 'o' || q[k] == 'O') {
			afters[m] = k + 1
			m++
		}
		if strings.HasPrefix(q[k:], "°") {
			afters[m] = k + len("°")
			m++
		}
		afters[m] = k
		m++
		for _, a := range afters[:m] {
			for a < len(q) && q[a] == ' ' {
				a++
			}
			if e := digitsFrom(a); e >= 0 {
				return e
			}
		}
	}
	return digitsFrom(j)
}

// mayHaveDigit is false only when s surely holds no \d: no ASCII digit
// and no multi-byte rune.
func mayHaveDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if ('0' <= s[i] && s[i] <= '9') || s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// 3: ([\d]{2})[\d]{3}(.*)c(e|é)dex ?[\d]* -> \1\2
func cleanCedexAfterPostcode(q string) string {
	w := rewriter{src: q}
	for i := 0; i < len(q); {
		e2, n2 := digitRun(q, i, 2)
		if n2 == 2 {
			e5, n5 := digitRun(q, e2, 3)
			if n5 == 3 {
				// Greedy (.*): the last cedex of the line.
				line := len(q)
				if k := strings.IndexByte(q[e5:], '\n'); k >= 0 {
					line = e5 + k
				}
				c := -1
				for k := line - 1; k >= e5; k-- {
					if matchCedex(q, k) >= 0 && matchCedex(q, k) <= line {
						c = k
						break
					}
				}
				if c >= 0 {
					end := afterCedex(q, matchCedex(q, c))
					w.replace(i, end, q[i:e2]+q[e5:c])
					i = end
					continue
				}
			}
		}
		i = nextRune(q, i)
	}
	return w.result()
}

// 4: c(e|é)dex ?[\d]* -> (empty)
func cleanCedex(q string) string {
	w := rewriter{src: q}
	for i := 0; i < len(q); {
		if e := matchCedex(q, i); e >= 0 {
			end := afterCedex(q, e)
			w.replace(i, end, "")
			i = end
			continue
		}
		i = nextRune(q, i)
	}
	return w.result()
}

// 5: \d{,2}(e|[eè]me) ([eé]tage) -> (empty)
func cleanFloor(q string) string {
	if !hasFoldedEtage(q) {
		return q
	}
	w := rewriter{src: q}
	for i := 0; i < len(q); {
		if e := matchFloor(q, i); e >= 0 {
			w.replace(i, e, "")
			i = e
			continue
		}
		i = nextRune(q, i)
	}
	return w.result()
}

func hasFoldedEtage(q string) bool {
	for i := 0; i+4 <= len(q); i++ {
		if hasPrefixFold(q, i, "tage") {
			return true
		}
	}
	return false
}

// matchLetter matches at k one of the given lowercase forms, ignoring
// case, and returns the end or -1.
func matchLetter(q string, k int, forms ...string) int {
	for _, f := range forms {
		if hasPrefixFold(q, k, f) {
			return k + len(f)
		}
	}
	return -1
}

// matchFloor matches \d{,2}(e|[eè]me) ([eé]tage) from i. Fewer digits than
// the greedy run would leave a digit where a letter is needed, so only the
// greedy count is tried.
func matchFloor(q string, i int) int {
	j, _ := digitRun(q, i, 2)
	etage := func(k int) int {
		if k >= len(q) || q[k] != ' ' {
			return -1
		}
		k = matchLetter(q, k+1, "e", "é")
		if k < 0 || !hasPrefixFold(q, k, "tage") {
			return -1
		}
		return k + 4
	}
	if k := matchLetter(q, j, "e"); k >= 0 {
		if e := etage(k); e >= 0 {
			return e
		}
	}
	if k := matchLetter(q, j, "e", "è"); k >= 0 && hasPrefixFold(q, k, "me") {
		if e := etage(k + 2); e >= 0 {
			return e
		}
	}
	return -1
}

// 6:  {2,} -> " "
func collapseSpaces(q string) string {
	if !strings.Contains(q, "  ") {
		return q
	}
	w := rewriter{src: q}
	for i := 0; i < len(q); i++ {
		if q[i] == ' ' && i+1 < len(q) && q[i+1] == ' ' {
			j := i + 2
			for j < len(q) && q[j] == ' ' {
				j++
			}
			w.replace(i, j, " ")
			i = j - 1
		}
	}
	return w.result()
}

// 7, 8: [ -]s/[ -] -> " sur ", [ -]s/s[ -] -> " sous "
func cleanSlash(q, mid, repl string) string {
	if !strings.Contains(q, "/") {
		return q
	}
	w := rewriter{src: q}
	for i := 0; i+len(mid)+2 <= len(q); i++ {
		if (q[i] == ' ' || q[i] == '-') && hasPrefixFold(q, i+1, mid) {
			e := i + 1 + len(mid)
			if q[e] == ' ' || q[e] == '-' {
				w.replace(i, e+1, repl)
				i = e
			}
		}
	}
	return w.result()
}

// 9: ^lieux?[ -]?dits?\b(?=.) -> (empty)
func cleanLieuDit(q string) string {
	if !hasPrefixFold(q, 0, "lieu") {
		return q
	}
	j := 4
	if j < len(q) && (q[j] == 'x' || q[j] == 'X') {
		j++
	}
	if j < len(q) && (q[j] == ' ' || q[j] == '-') {
		j++
	}
	if !hasPrefixFold(q, j, "dit") {
		return q
	}
	j += 3
	// s? greedy, then \b and a following character that is not a newline.
	ok := func(e int) bool {
		if e >= len(q) || q[e] == '\n' {
			return false
		}
		return nonWordAt(q, e)
	}
	if j < len(q) && (q[j] == 's' || q[j] == 'S') && ok(j+1) {
		return q[j+1:]
	}
	if ok(j) {
		return q[j:]
	}
	return q
}

// RemoveLeadingZeros is addok-france's remove_leading_zeros: \b0+(\d{1,3})\b
// -> \1 ("0003" -> "3", "02230" unchanged: postcodes keep their zero).
func RemoveLeadingZeros(s string) string {
	if strings.IndexByte(s, '0') < 0 {
		return s
	}
	w := rewriter{src: s}
	for i := 0; i < len(s); {
		// A maximal run of word characters starting at i.
		j := i
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if !isWordRune(r) {
				break
			}
			j += size
		}
		if j == i {
			i = nextRune(s, i)
			continue
		}
		word := s[i:j]
		if word[0] == '0' {
			e, n := digitRun(word, 0, len(word))
			if e == len(word) {
				zeros := 0
				for zeros < len(word) && word[zeros] == '0' {
					zeros++
				}
				rest := n - zeros
				switch {
				case rest >= 1 && rest <= 3:
					w.replace(i, i+zeros, "")
				case rest == 0 && zeros >= 2:
					w.replace(i, i+zeros-1, "")
				}
			}
		}
		i = j
	}
	return w.result()
}
