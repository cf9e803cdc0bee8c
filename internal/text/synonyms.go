package text

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
)

// frenchSynonymsFile is addok-fr's synonyms.txt, verbatim (see NOTICE).
//
//go:embed synonyms-fr.txt
var frenchSynonymsFile string

// FrenchSynonyms returns the addok-fr synonyms as a fresh map (callers may
// modify it).
func FrenchSynonyms() map[string][]string {
	m, err := ParseSynonyms(strings.NewReader(frenchSynonymsFile))
	if err != nil {
		panic("text: embedded synonyms: " + err.Error())
	}
	return m
}

// ParseSynonyms reads Addok's synonyms format: lines "a, b => c d" map each
// comma-separated left-hand word to the right-hand words; lines starting
// with # are comments. A later line wins over an earlier one for the same
// word, as in Addok's dict. Blank lines are skipped (Addok fails on them).
func ParseSynonyms(r io.Reader) (map[string][]string, error) {
	m := make(map[string][]string)
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		l := sc.Text()
		if strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "" {
			continue
		}
		parts := strings.Split(l, "=>")
		if len(parts) != 2 {
			return nil, fmt.Errorf("synonyms line %d: want one \"=>\": %q", line, l)
		}
		wanted := splitPyWhitespace(parts[1])
		for _, syn := range strings.Split(parts[0], ",") {
			syn = pyStrip(syn)
			if syn == "" {
				continue
			}
			m[syn] = wanted
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return m, nil
}
