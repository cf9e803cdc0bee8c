package text

import (
	"unicode/utf8"
	"unsafe"
)

// azertyKeyMap is the AZERTY map of Addok's FUZZY_KEY_MAP: the letters a typing
// slip on an AZERTY keyboard may put instead of each letter.
var azertyKeyMap = map[rune]string{
	'a': "ezqop", 'z': "aqse", 'e': "azsdryu", 'r': "edft", 't': "rfgy",
	'y': "teghu", 'u': "yehji", 'i': "ujko", 'o': "iaklp", 'p': "oalm",
	'q': "azsw", 's': "qzedxw", 'd': "serfcx", 'f': "drtgvc", 'g': "ftyhbv",
	'h': "gyujnb", 'j': "huikn", 'k': "jil", 'l': "kom", 'm': "lpu",
	'w': "qsx", 'x': "wsdc", 'c': "xdfvio", 'v': "cfgb", 'b': "vghn",
	'n': "bhj",
}

// AzertyKeyMap returns a copy of the default FUZZY_KEY_MAP.
func AzertyKeyMap() map[rune]string {
	m := make(map[rune]string, len(azertyKeyMap))
	for k, v := range azertyKeyMap {
		m[k] = v
	}
	return m
}

// Fuzzy is Addok's make_fuzzy (distance 1): adjacent transpositions, then
// substitutions (keyboard neighbours, or every letter a-z), then insertions
// of every letter a-z at every position, then deletions when the word is
// longer than 3 characters; deduplicated keeping the first occurrence.
// Digit-only words give none (Addok never fuzzes them).
func (p *Pipeline) Fuzzy(word string) []string { return neighbours(word, p.keyMap) }

// Neighbours is Fuzzy with every letter a-z as a substitution, whatever
// the keyboard map: the words one edit away from word however it was
// mistyped or misspelt ("parns" → "paris"), for balise's own correction
// steps, which are not bound by Addok's candidates.
func Neighbours(word string) []string { return neighbours(word, nil) }

func neighbours(word string, keyMap map[rune][]rune) []string {
	if word == "" || IsAllDigits(word) {
		return nil
	}
	w := []rune(word)
	n := len(w)
	// Every neighbour is written into one arena, turned into a single
	// string at the end and sliced: a few allocations instead of hundreds.
	var g fuzzGen
	g.arena = make([]byte, 0, (26*(n+1)+12*n)*(len(word)+1))
	g.ends = make([]int, 0, 26*(n+1)+12*n)
	nb := make([]rune, n+1)
	// Transpositions.
	for i := 0; i+1 < n; i++ {
		copy(nb, w)
		nb[i], nb[i+1] = nb[i+1], nb[i]
		g.add(nb[:n])
	}
	// Substitutions.
	if keyMap != nil {
		for i := 0; i < n; i++ {
			subs, ok := keyMap[w[i]]
			if !ok {
				continue
			}
			copy(nb, w)
			for _, l := range subs {
				// Addok compares with the letter it put there last, not
				// with the word's: a map listing a letter as its own
				// neighbour (not in first place) yields the word itself.
				if l != nb[i] {
					nb[i] = l
					g.add(nb[:n])
				}
			}
		}
	} else {
		for l := 'a'; l <= 'z'; l++ {
			for i := 0; i < n; i++ {
				if w[i] != l {
					copy(nb, w)
					nb[i] = l
					g.add(nb[:n])
				}
			}
		}
	}
	// Insertions.
	sameLen := len(g.ends)
	for l := 'a'; l <= 'z'; l++ {
		for i := 0; i <= n; i++ {
			if i > 0 && w[i-1] == l {
				// Same string as inserting l one place earlier.
				continue
			}
			copy(nb, w[:i])
			nb[i] = l
			copy(nb[i+1:], w[i:])
			g.add(nb[:n+1])
		}
	}
	// Deletions.
	if n > 3 {
		for i := 0; i < n; i++ {
			if i > 0 && w[i-1] == w[i] {
				// Same string as deleting the previous letter.
				continue
			}
			copy(nb, w[:i])
			copy(nb[i:], w[i+1:])
			g.add(nb[:n-1])
		}
	}
	return g.strings(sameLen)
}

type fuzzGen struct {
	arena []byte
	ends  []int
}

func (g *fuzzGen) add(r []rune) {
	for _, c := range r {
		g.arena = utf8.AppendRune(g.arena, c)
	}
	g.ends = append(g.ends, len(g.arena))
}

// strings slices the arena. Neighbours of different lengths never
// coincide and insertions and deletions skip their own repeats at
// generation, so only the first sameLen ones (transpositions and
// substitutions) may repeat; the first occurrence is kept.
func (g *fuzzGen) strings(sameLen int) []string {
	all := string(g.arena)
	out := make([]string, 0, len(g.ends))
	seen := make(map[string]struct{}, sameLen)
	start := 0
	for k, end := range g.ends {
		s := all[start:end]
		start = end
		if k < sameLen {
			if _, ok := seen[s]; ok {
				continue
			}
			seen[s] = struct{}{}
		}
		out = append(out, s)
	}
	return out
}

// EachFuzzy calls yield with each of Fuzzy(word)'s neighbours, in the same
// order, until yield returns false, without allocating them: each string
// is valid during its call only (the fuzzy step looks each up and keeps
// none). scratch is a buffer to reuse, returned grown. Materialising the
// ~300 neighbours of a word cost more than looking them up.
func (p *Pipeline) EachFuzzy(word string, scratch []byte, yield func(string) bool) []byte {
	if word == "" || IsAllDigits(word) {
		return scratch
	}
	if !asciiNeighbours(word, p.keyMap) {
		for _, s := range neighbours(word, p.keyMap) {
			if !yield(s) {
				break
			}
		}
		return scratch
	}
	return eachNeighbourASCII(word, p.keyMap, scratch, yield)
}

// asciiNeighbours reports whether word and the letters the key map
// substitutes in it are all ASCII, as the pipeline's output nearly always
// is.
func asciiNeighbours(word string, keyMap map[rune][]rune) bool {
	for i := 0; i < len(word); i++ {
		if word[i] >= utf8.RuneSelf {
			return false
		}
		for _, l := range keyMap[rune(word[i])] {
			if l >= utf8.RuneSelf {
				return false
			}
		}
	}
	return true
}

// eachNeighbourASCII is neighbours for an ASCII word, each neighbour
// written in buf in turn. neighbours deduplicates the same-length ones by
// value; here the repeats are known from how they are made: the word
// itself (a transposition of two equal letters, or a key map listing a
// letter among its own neighbours), and a letter the key map lists twice
// for one position. Substitutions at different positions, and
// substitutions and transpositions, never coincide.
func eachNeighbourASCII(w string, keyMap map[rune][]rune, buf []byte, yield func(string) bool) []byte {
	n := len(w)
	if cap(buf) < n+1 {
		buf = make([]byte, 0, 2*(n+1))
	}
	stop := false
	emit := func(b []byte) {
		if !stop && !yield(unsafe.String(unsafe.SliceData(b), len(b))) {
			stop = true
		}
	}
	selfDone := false // the word itself was given once
	for i := 0; i+1 < n && !stop; i++ {
		if w[i] == w[i+1] {
			if selfDone {
				continue
			}
			selfDone = true
		}
		b := append(buf[:0], w...)
		b[i], b[i+1] = b[i+1], b[i]
		emit(b)
	}
	if keyMap != nil {
		for i := 0; i < n && !stop; i++ {
			var used [2]uint64 // letters already put at i
			last := rune(w[i])
			for _, l := range keyMap[rune(w[i])] {
				if l == last {
					continue
				}
				last = l
				if l == rune(w[i]) {
					if selfDone {
						continue
					}
					selfDone = true
				} else if used[l>>6]&(1<<(l&63)) != 0 {
					continue
				}
				used[l>>6] |= 1 << (l & 63)
				b := append(buf[:0], w...)
				b[i] = byte(l)
				emit(b)
			}
		}
	} else {
		for l := byte('a'); l <= 'z' && !stop; l++ {
			for i := 0; i < n; i++ {
				if w[i] != l {
					b := append(buf[:0], w...)
					b[i] = l
					emit(b)
				}
			}
		}
	}
	for l := byte('a'); l <= 'z' && !stop; l++ {
		for i := 0; i <= n; i++ {
			if i == 0 || w[i-1] != l {
				b := append(append(append(buf[:0], w[:i]...), l), w[i:]...)
				emit(b)
			}
		}
	}
	if n > 3 {
		for i := 0; i < n && !stop; i++ {
			if i == 0 || w[i-1] != w[i] {
				b := append(append(buf[:0], w[:i]...), w[i+1:]...)
				emit(b)
			}
		}
	}
	return buf
}
