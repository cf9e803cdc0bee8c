package text

import (
	"slices"
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
	// Every neighbour is copied into one arena, turned into a single
	// string at the end and sliced: a few allocations instead of hundreds.
	n := utf8.RuneCountInString(word)
	arena := make([]byte, 0, (26*(n+1)+12*n)*(len(word)+1))
	ends := make([]int, 0, 26*(n+1)+12*n)
	eachNeighbour(word, keyMap, nil, func(s string) bool {
		arena = append(arena, s...)
		ends = append(ends, len(arena))
		return true
	})
	if len(ends) == 0 {
		return nil
	}
	all := string(arena)
	out := make([]string, len(ends))
	start := 0
	for i, end := range ends {
		out[i], start = all[start:end], end
	}
	return out
}

// EachFuzzy calls yield with each of Fuzzy(word)'s neighbours, in order,
// until yield returns false, without allocating them: each string is valid
// during its call only (the fuzzy step looks each up and keeps none).
// scratch is a buffer to reuse, returned grown. Materialising the ~300
// neighbours of a word cost more than looking them up.
func (p *Pipeline) EachFuzzy(word string, scratch []byte, yield func(string) bool) []byte {
	return eachNeighbour(word, p.keyMap, scratch, yield)
}

// eachNeighbour makes the neighbours of word (Fuzzy's, or Neighbours' with
// a nil key map), each written in buf in turn from slices of the word
// around the edit. Addok deduplicates them by value, keeping the first;
// here the repeats are known from how they are made: the word itself (a
// transposition of two equal letters, or a key map listing a letter among
// its own neighbours), and a letter the key map lists twice for one
// position. Substitutions at different positions, substitutions and
// transpositions, and words of different lengths never coincide, and
// insertions and deletions skip their own repeats.
func eachNeighbour(word string, keyMap map[rune][]rune, buf []byte, yield func(string) bool) []byte {
	if word == "" || IsAllDigits(word) {
		return buf
	}
	w := []rune(word)
	n := len(w)
	off := make([]int, n+1) // byte offset of each rune, and the length
	for i, b := 0, 0; i < n; i++ {
		off[i] = b
		b += utf8.RuneLen(w[i])
	}
	off[n] = len(word)
	stop := false
	emit := func(head string, mid []byte, tail string) {
		buf = append(append(append(buf[:0], head...), mid...), tail...)
		if !stop && !yield(unsafe.String(unsafe.SliceData(buf), len(buf))) {
			stop = true
		}
	}
	var mid []byte
	selfDone := false // the word itself was given once
	// Transpositions.
	for i := 0; i+1 < n && !stop; i++ {
		if w[i] == w[i+1] {
			if selfDone {
				continue
			}
			selfDone = true
		}
		mid = append(append(mid[:0], word[off[i+1]:off[i+2]]...), word[off[i]:off[i+1]]...)
		emit(word[:off[i]], mid, word[off[i+2]:])
	}
	// Substitutions.
	if keyMap != nil {
		var used []rune // letters already put at i
		for i := 0; i < n && !stop; i++ {
			used = used[:0]
			// Addok compares with the letter it put there last, not with
			// the word's.
			last := w[i]
			for _, l := range keyMap[w[i]] {
				if l == last {
					continue
				}
				last = l
				if l == w[i] {
					if selfDone {
						continue
					}
					selfDone = true
				} else if slices.Contains(used, l) {
					continue
				}
				used = append(used, l)
				emit(word[:off[i]], utf8.AppendRune(mid[:0], l), word[off[i+1]:])
			}
		}
	} else {
		for l := 'a'; l <= 'z' && !stop; l++ {
			for i := 0; i < n; i++ {
				if w[i] != l {
					emit(word[:off[i]], append(mid[:0], byte(l)), word[off[i+1]:])
				}
			}
		}
	}
	// Insertions.
	for l := 'a'; l <= 'z' && !stop; l++ {
		for i := 0; i <= n; i++ {
			if i == 0 || w[i-1] != l { // else the same as inserting l one place earlier
				emit(word[:off[i]], append(mid[:0], byte(l)), word[off[i]:])
			}
		}
	}
	// Deletions.
	if n > 3 {
		for i := 0; i < n && !stop; i++ {
			if i == 0 || w[i-1] != w[i] { // else the same as deleting the previous letter
				emit(word[:off[i]], nil, word[off[i+1]:])
			}
		}
	}
	return buf
}
