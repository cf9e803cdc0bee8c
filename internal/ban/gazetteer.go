package ban

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"balise/internal/source"
)

// Commune is one row of the communes gazetteer (communes.csv.gz).
type Commune struct {
	Code       string // INSEE code
	Type       string // commune-actuelle, arrondissement-municipal, commune-deleguee, commune-associee
	Name       string
	Parent     string // parent_citycode
	Dep        string // dep_code
	Postcodes  string // '|'-separated
	Population string // INSEE legal population, "" when unknown
	Lat, Lon   string // centre, "" when unknown
	Context    string // "75, Paris, Île-de-France"
	OldCodes   string // '|'-separated
}

// Gazetteer is the communes gazetteer as to_addok.py's Gazetteer class
// loads it: current communes and municipal arrondissements by code, and a
// map from former/delegated commune codes to the current commune.
type Gazetteer struct {
	byCode   map[string]*Commune
	order    []*Commune // current communes in file order
	oldToNew map[string]string
}

// LoadGazetteer reads a communes.csv[.gz] file (header citycode,type,name,
// parent_citycode,dep_code,...,context,old_codes; see
// shared/data/communes/PROVENANCE.md).
func LoadGazetteer(path string) (*Gazetteer, error) {
	in, err := source.OpenInput(path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	g, err := readGazetteer(in.Reader())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

func readGazetteer(r io.Reader) (*Gazetteer, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("communes gazetteer: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	need := []string{"citycode", "type", "name", "parent_citycode", "dep_code", "postcodes", "population", "lat", "lon", "context", "old_codes"}
	for _, h := range need {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("communes gazetteer: no %q column", h)
		}
	}
	g := &Gazetteer{byCode: map[string]*Commune{}, oldToNew: map[string]string{}}
	var others []*Commune
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("communes gazetteer: %w", err)
		}
		get := func(h string) string {
			if i := col[h]; i < len(rec) {
				return strings.Clone(rec[i])
			}
			return ""
		}
		c := &Commune{Code: get("citycode"), Type: get("type"), Name: get("name"), Parent: get("parent_citycode"),
			Dep: get("dep_code"), Postcodes: get("postcodes"), Population: get("population"), Lat: get("lat"),
			Lon: get("lon"), Context: get("context"), OldCodes: get("old_codes")}
		if c.Type == "commune-actuelle" || c.Type == "arrondissement-municipal" {
			if _, dup := g.byCode[c.Code]; !dup {
				g.order = append(g.order, c)
			} else {
				for i := range g.order { // a dict keeps the first position, the last value
					if g.order[i].Code == c.Code {
						g.order[i] = c
					}
				}
			}
			g.byCode[c.Code] = c
		} else {
			others = append(others, c)
		}
	}
	for _, c := range others {
		if _, cur := g.byCode[c.Code]; c.Parent != "" && !cur {
			if _, ok := g.oldToNew[c.Code]; !ok {
				g.oldToNew[c.Code] = c.Parent
			}
		}
	}
	for _, c := range g.order {
		for _, old := range strings.Split(c.OldCodes, "|") {
			if old == "" {
				continue
			}
			if _, cur := g.byCode[old]; cur {
				continue
			}
			if _, ok := g.oldToNew[old]; !ok {
				g.oldToNew[old] = c.Code
			}
		}
	}
	return g, nil
}

// Current returns the current commune (or arrondissement) for code, following
// merged/delegated codes; nil when unknown.
func (g *Gazetteer) Current(code string) *Commune {
	if c := g.byCode[code]; c != nil {
		return c
	}
	if n, ok := g.oldToNew[code]; ok {
		return g.byCode[n]
	}
	return nil
}

// Lookup returns the current commune with exactly this code.
func (g *Gazetteer) Lookup(code string) *Commune { return g.byCode[code] }

// Context returns the Addok context of a commune code: its own, else the
// one of the first commune of its département, else the département code.
func (g *Gazetteer) Context(code string) string {
	if c := g.Current(code); c != nil {
		return c.Context
	}
	dep := depOf(code)
	for _, c := range g.order {
		if c.Dep == dep {
			return c.Context
		}
	}
	return dep
}

// depOf is the département code of an INSEE code: its first 2 characters,
// 3 overseas (97x, 98x). Characters, not bytes, as Python slices.
func depOf(code string) string {
	n := 2
	if strings.HasPrefix(code, "97") || strings.HasPrefix(code, "98") {
		n = 3
	}
	for i := range code {
		if n == 0 {
			return code[:i]
		}
		n--
	}
	return code
}

// builtinContext is the context without a gazetteer (COG 2026 table).
func builtinContext(code string) string {
	dep := depOf(code)
	if c, ok := depContexts[dep]; ok {
		return c
	}
	return dep
}

// slug is to_addok.py's slug(): lower case, accents removed, runs of
// anything but [a-z0-9] turned into one '-', trimmed.
func slug(s string) string {
	b := make([]byte, 0, len(s))
	sep := false // a separator is pending
	put := func(t string) {
		for i := 0; i < len(t); i++ {
			if t[i] == '-' {
				sep = true
				continue
			}
			if sep && len(b) > 0 {
				b = append(b, '-')
			}
			sep = false
			b = append(b, t[i])
		}
	}
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			put(string(rune(r + 32)))
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			put(string(r))
		case r < 0x80:
			sep = true
		default:
			if f, ok := slugFold[r]; ok {
				put(f)
			} else if !unicode.Is(unicode.Mn, r) {
				sep = true
			}
		}
	}
	return string(b)
}
