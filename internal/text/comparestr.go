package text

// CompareStr is Addok's experimental compare_str scorer (not used by the
// default or BAN chains): trigram containment of the space-padded ascii
// strings (0.85 for b's trigrams found in a, 0.05 the other way) plus 0.1
// for the edit distance beyond the length difference. Empty input, which
// makes Addok divide by zero, scores 0.
func CompareStr(a, b string) float64 {
	l := []rune(ASCII(a))
	r := []rune(ASCII(b))
	if len(l) == 0 || len(r) == 0 {
		return 0
	}
	ln := trigramSet(l)
	rn := trigramSet(r)
	common := 0
	for g := range ln {
		if _, ok := rn[g]; ok {
			common++
		}
	}
	diff := len(l) - len(r)
	if diff < 0 {
		diff = -diff
	}
	longest := max(len(l), len(r))
	distance := float64(levenshtein(l, r)-diff) / float64(longest)
	return float64(common)/float64(len(rn))*0.85 + float64(common)/float64(len(ln))*0.05 + (1-distance)*0.1
}

func trigramSet(s []rune) map[[3]rune]struct{} {
	p := make([]rune, 0, len(s)+2)
	p = append(p, ' ')
	p = append(p, s...)
	p = append(p, ' ')
	set := make(map[[3]rune]struct{}, len(p))
	for i := 0; i+3 <= len(p); i++ {
		set[[3]rune{p[i], p[i+1], p[i+2]}] = struct{}{}
	}
	return set
}

func levenshtein(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
