package bench

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"balise/internal/search"
	"balise/internal/text"
)

// formulations are the ways Formulate writes an address as a query, in the
// relevance suite's order.
var formulations = []string{"full", "no_postcode", "street_city", "municipality", "prefix", "typo", "abbreviation", "no_accents",
	"number_last", "focus_point", "filter_postcode", "filter_citycode", "filter_type", "uppercase", "bis_ter", "commas"}

// Formulations lists the formulations Formulate knows, in the order
// Cases generates them:
//
//	full             "12 Rue de la Paix 75002 Paris"
//	no_postcode      "12 Rue de la Paix Paris"
//	street_city      "Rue de la Paix Paris" (the street is wanted)
//	municipality     a municipality's name (the municipality is wanted)
//	prefix           "12 Rue de la Paix Pa", cut 3+ characters into the city, autocomplete on
//	typo             one substitution, deletion or transposition in the longest word
//	abbreviation     "12 r de la Paix Paris" (the first abbreviable word of the street)
//	no_accents       full, folded to lower-case ASCII (text.Fold)
//	number_last      "Rue de la Paix 12 Paris"
//	focus_point      "12 Rue de la Paix" with the housenumber's position as centre
//	filter_postcode  "12 Rue de la Paix" with a postcode filter
//	filter_citycode  "12 Rue de la Paix" with a citycode filter
//	filter_type      "Rue de la Paix Paris" filtered on type=street (the street is wanted)
//	uppercase        full, in upper case
//	bis_ter          "12 bis Rue de la Paix Paris", for numbers with a suffix only
//	commas           "12, Rue de la Paix, 75002 Paris"
//
// then the ways people and back offices write addresses that Addok misses
// (writtenFormulations), each drawn from its own random source so that
// adding one never changes the cases of another:
//
//	glued_number     "12Rue de la Paix Paris", "12bisRue de la Paix 75002 Paris"
//	glued_city       "12 Rue de la PaixParis", "12 Rue de la Paix75002 Paris"
//	city_typo        one edit in the city ("12 Rue de la Paix Pairs"), postcode or not
//	two_typos        one edit in the street's longest word and one in the city
//	country_suffix   full or no_postcode with "France" after it ("…Paris France", "…Paris, FRANCE")
func Formulations() []string { return slices.Concat(formulations, writtenFormulations) }

// writtenFormulations are the formulations of queries as people and back
// offices write them: words glued together, two typos, a misspelled city, a
// country after the address. Cases makes them after formulations; the
// search mix (Generate) keeps to formulations.
var writtenFormulations = []string{"glued_number", "glued_city", "city_typo", "two_typos", "country_suffix"}

// WrittenFormulations lists the formulations of queries as people write
// them, the tail of Formulations: the engine benchmarks leave them out, so
// that their figures stay comparable with those measured before them.
func WrittenFormulations() []string { return slices.Clone(writtenFormulations) }

// What a Case's top result must be.
const (
	WantHousenumber  = "housenumber"
	WantStreet       = "street"
	WantMunicipality = "municipality"
)

// Case is a search query written from a known address of a corpus, and what
// its top result must be: the relevance suite's unit, and the source of
// the "search" mix's requests. Its JSON form is a line of the relevance
// suite's --write-queries file, which ParseLine reads back.
type Case struct {
	Kind   string       `json:"kind"` // the formulation
	Query  search.Query `json:"query"`
	Want   string       `json:"want"` // WantHousenumber, WantStreet or WantMunicipality
	Name   string       `json:"name"` // street or municipality name
	City   string       `json:"city"`
	Number string       `json:"number,omitempty"` // the housenumber as written, when one is wanted
}

// Cases makes perKind cases of each formulation in turn, seeded: a pure
// function of (corpus, perKind, seed). A formulation that does not suit
// the drawn addresses (abbreviation, bis_ter…) gives up after 50 draws
// per wanted case, so a corpus can yield fewer than perKind of it.
func Cases(c *Corpus, perKind int, seed uint64) []Case {
	r := newRand(seed)
	var out []Case
	for _, kind := range formulations {
		out = formulateN(out, r, c, kind, perKind)
	}
	for _, kind := range writtenFormulations {
		out = formulateN(out, kindRand(seed, kind), c, kind, perKind)
	}
	return out
}

// formulateN appends up to n cases of kind drawn from r.
func formulateN(out []Case, r *rand.Rand, c *Corpus, kind string, n int) []Case {
	made := 0
	for tries := 0; made < n && tries < n*maxAttemptsPerRequest; tries++ {
		if cs, ok := Formulate(r, c, kind); ok {
			out = append(out, cs)
			made++
		}
	}
	return out
}

// kindRand is the random source of one formulation of writtenFormulations:
// the seed mixed with an FNV-1a hash of the kind's name.
func kindRand(seed uint64, kind string) *rand.Rand {
	h := uint64(14695981039346656037)
	for i := 0; i < len(kind); i++ {
		h = (h ^ uint64(kind[i])) * 1099511628211
	}
	return newRand(seed ^ h)
}

// newRand is the generators' source for a seed.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Formulate draws an address (a street of c, one of its housenumbers) and
// writes it in formulation kind (see Formulations). ok is false, and the
// caller draws again, when the draw does not suit the formulation: a
// housenumber nobody types ("145p2"), a street without an abbreviable
// word, a number without "bis"/"ter"/letter for bis_ter, a missing
// postcode or citycode for their filters, an unknown kind. The query's
// Limit is left at 0, and the draws use r in a fixed order, so the result
// is a pure function of (r's state, c, kind).
func Formulate(r *rand.Rand, c *Corpus, kind string) (cs Case, ok bool) {
	s, h := pick(r, c)
	if !standardNumber.MatchString(h.Raw) {
		return Case{}, false
	}
	cs = Case{Kind: kind, Want: WantHousenumber, Name: s.Name, City: s.City, Number: h.Raw}
	q := &cs.Query
	switch kind {
	case "full":
		q.Q = fmt.Sprintf("%s %s %s %s", h.Raw, s.Name, s.Postcode, s.City)
	case "no_postcode":
		q.Q = fmt.Sprintf("%s %s %s", h.Raw, s.Name, s.City)
	case "street_city":
		q.Q, cs.Want, cs.Number = fmt.Sprintf("%s %s", s.Name, s.City), WantStreet, ""
	case "municipality":
		if len(c.Municipalities) == 0 {
			return Case{}, false
		}
		m := c.Municipalities[r.IntN(len(c.Municipalities))]
		q.Q, cs.Want, cs.Name, cs.City, cs.Number = m, WantMunicipality, m, "", ""
	case "prefix":
		full := fmt.Sprintf("%s %s %s", h.Raw, s.Name, s.City)
		cut := len(h.Raw) + 1 + len(s.Name) + 1 + 3 + r.IntN(max(1, len(s.City)-2))
		q.Q, q.Autocomplete = cutUTF8(full, cut), true
	case "typo":
		q.Q = typo(r, fmt.Sprintf("%s %s %s", h.Raw, s.Name, s.City))
	case "abbreviation":
		if a := abbreviate(s.Name); a != "" {
			q.Q = fmt.Sprintf("%s %s %s", h.Raw, a, s.City)
		}
	case "no_accents":
		q.Q = text.Fold(fmt.Sprintf("%s %s %s %s", h.Raw, s.Name, s.Postcode, s.City))
	case "number_last":
		q.Q = fmt.Sprintf("%s %s %s", s.Name, h.Raw, s.City)
	case "focus_point":
		q.Q, q.HasCenter, q.Lat, q.Lon = fmt.Sprintf("%s %s", h.Raw, s.Name), true, h.Lat, h.Lon
	case "filter_postcode":
		if s.Postcode != "" {
			q.Q, q.Filters = fmt.Sprintf("%s %s", h.Raw, s.Name), []search.Filter{{Name: "postcode", Values: []string{s.Postcode}}}
		}
	case "filter_citycode":
		if s.Citycode != "" {
			q.Q, q.Filters = fmt.Sprintf("%s %s", h.Raw, s.Name), []search.Filter{{Name: "citycode", Values: []string{s.Citycode}}}
		}
	case "filter_type":
		q.Q, q.Filters, cs.Want, cs.Number = fmt.Sprintf("%s %s", s.Name, s.City), []search.Filter{{Name: "type", Values: []string{"street"}}}, WantStreet, ""
	case "uppercase":
		q.Q = strings.ToUpper(fmt.Sprintf("%s %s %s %s", h.Raw, s.Name, s.Postcode, s.City))
	case "bis_ter":
		if strings.ContainsFunc(h.Raw, unicode.IsLetter) {
			q.Q = fmt.Sprintf("%s %s %s", displayNumber(h.Raw), s.Name, s.City)
		}
	case "commas":
		q.Q = fmt.Sprintf("%s, %s, %s %s", h.Raw, s.Name, s.Postcode, s.City)
	default:
		if !writeAsPeople(r, q, s, h, kind) {
			return Case{}, false
		}
	}
	q.Q = strings.Join(strings.Fields(q.Q), " ") // an empty postcode leaves a double space
	if q.Q == "" {
		return Case{}, false
	}
	return cs, true
}

// writeAsPeople writes the query of one of writtenFormulations into q,
// false when the draw does not suit it (a street whose name starts with a
// digit cannot be glued to its number; a city too short for a typo) or
// kind is unknown.
func writeAsPeople(r *rand.Rand, q *search.Query, s Street, h Number, kind string) bool {
	// Half the queries carry the postcode, as back-office files often do.
	postcode := ""
	if r.IntN(2) == 0 {
		postcode = s.Postcode
	}
	switch kind {
	case "glued_number":
		if s.Name == "" || !unicode.IsLetter([]rune(s.Name)[0]) {
			return false
		}
		q.Q = fmt.Sprintf("%s%s %s %s", h.Raw, s.Name, postcode, s.City)
	case "glued_city":
		// The city glued to the street's last word, or the postcode glued
		// to it with the city after.
		if r.IntN(2) == 0 || s.Postcode == "" {
			q.Q = fmt.Sprintf("%s %s%s", h.Raw, s.Name, s.City)
		} else {
			q.Q = fmt.Sprintf("%s %s%s %s", h.Raw, s.Name, s.Postcode, s.City)
		}
	case "city_typo":
		city := typo(r, s.City)
		if city == "" {
			return false
		}
		q.Q = fmt.Sprintf("%s %s %s %s", h.Raw, s.Name, postcode, city)
	case "two_typos":
		name, city := typo(r, s.Name), typo(r, s.City)
		if name == "" || city == "" {
			return false
		}
		q.Q = fmt.Sprintf("%s %s %s", h.Raw, name, city)
	case "country_suffix":
		suffix := []string{"France", "FRANCE", ", France", "france"}[r.IntN(4)]
		q.Q = fmt.Sprintf("%s %s %s %s %s", h.Raw, s.Name, postcode, s.City, suffix)
		q.Q = strings.ReplaceAll(q.Q, " ,", ",")
	default:
		return false
	}
	return true
}

func pick(r *rand.Rand, c *Corpus) (Street, Number) {
	s := c.Streets[r.IntN(len(c.Streets))]
	return s, s.Numbers[r.IntN(len(s.Numbers))]
}

// standardNumber is what people type: "12", "12bis", "12b". Keys like
// "145p2" (Paris private ways, whose street is named "145P2 Avenue de
// Flandre") or 5-digit BANO numbers are identifiers nobody types.
var standardNumber = regexp.MustCompile(`^[0-9]{1,4}(bis|ter|quater|[a-z])?$`)

var abbreviations = map[string]string{"boulevard": "bd", "avenue": "av", "saint": "st", "sainte": "ste", "place": "pl", "chemin": "ch",
	"route": "rte", "impasse": "imp", "allee": "all", "faubourg": "fg", "rue": "r", "residence": "res", "square": "sq"}

// typo applies one edit (substitution, deletion or transposition) inside
// the longest word, as a hurried typist would.
func typo(r *rand.Rand, s string) string {
	words := strings.Fields(s)
	if len(words) == 0 {
		return ""
	}
	best := 0
	for i, w := range words {
		if len([]rune(w)) > len([]rune(words[best])) {
			best = i
		}
	}
	if words[best] = typoWord(r, words[best]); words[best] == "" {
		return ""
	}
	return strings.Join(words, " ")
}

// typoWord applies one edit to a word of 5 runes or more, never on its
// first or last rune; "" for a shorter word.
func typoWord(r *rand.Rand, word string) string {
	w := []rune(word)
	if len(w) < 5 {
		return ""
	}
	j := 1 + r.IntN(len(w)-2)
	switch r.IntN(3) {
	case 0:
		w[j] = []rune("aeioursnt")[r.IntN(9)]
	case 1:
		w = append(w[:j:j], w[j+1:]...)
	default:
		w[j], w[j+1] = w[j+1], w[j]
	}
	return string(w)
}

// abbreviate abbreviates the first word of s that has a usual
// abbreviation ("boulevard" → "bd"), or returns "".
func abbreviate(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if a, ok := abbreviations[text.Fold(w)]; ok {
			words[i] = a
			return strings.Join(words, " ")
		}
	}
	return ""
}

// displayNumber writes "12bis" as "12 bis", as people often do.
func displayNumber(raw string) string {
	i := 0
	for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
		i++
	}
	if i > 0 && i < len(raw) && len(raw)-i > 1 {
		return raw[:i] + " " + raw[i:]
	}
	return raw
}

// cutUTF8 cuts s at byte n or just after, never inside a UTF-8 sequence.
func cutUTF8(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n < len(s) && (s[n]&0xC0) == 0x80 {
		n++
	}
	return s[:n]
}
