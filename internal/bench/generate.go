package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"unicode"

	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/source"
	"balise/internal/text"
)

// Corpus bounds: a reservoir sample of the input keeps generation's memory
// fixed whatever the input size (the full BAN has 2.5 M documents).
const (
	maxStreets            = 50_000
	maxNumbersPerStreet   = 16
	maxMunicipalities     = 20_000
	defaultGenerateCount  = 5_000
	maxAttemptsPerRequest = 50 // attempts per wanted request before giving up
	indexMagic            = "BALISEIX"
	reverseJitterLatDeg   = 0.0008 // ±40 m: a point near, not on, a housenumber
	reverseJitterLonDeg   = 0.0012
	autocompleteFocusRate = 0.3 // share of keystroke prefixes sent with a map centre
)

// Street is a street with housenumbers, as the generator needs it.
type Street struct {
	Name, City, Postcode, Citycode string
	Numbers                        []Number
}

// Number is one housenumber of a street.
type Number struct {
	Raw      string
	Lat, Lon float64
}

// Corpus is the material requests are generated from: a seeded reservoir
// sample of the streets with housenumbers and of the municipality names.
type Corpus struct {
	Streets        []Street
	Municipalities []string
}

// Mix names a request mix.
type Mix string

// The mixes Generate knows.
const (
	// MixSearch is the relevance suite's 16 formulations in equal parts
	// (only "prefix" has autocomplete on): geocoding typed or stored addresses.
	MixSearch Mix = "search"
	// MixAutocomplete is keystroke prefixes of addresses with autocomplete
	// on, 30 % with a map centre: a search box as the user types.
	MixAutocomplete Mix = "autocomplete"
	// MixReverse is points within ~40 m of housenumbers, 1 in 10 with a
	// type filter.
	MixReverse Mix = "reverse"
	// MixMixed is 50 % search, 35 % autocomplete and 15 % reverse.
	MixMixed Mix = "mixed"
)

// ParseMix validates a mix name.
func ParseMix(s string) (Mix, error) {
	switch m := Mix(s); m {
	case MixSearch, MixAutocomplete, MixReverse, MixMixed:
		return m, nil
	}
	return "", fmt.Errorf("unknown mix %q (search, autocomplete, reverse or mixed)", s)
}

// searchKinds are the relevance suite's formulations (internal/relevance
// suite_test.go), in its order.
var searchKinds = []string{"full", "no_postcode", "street_city", "municipality", "prefix", "typo", "abbreviation", "no_accents",
	"number_last", "focus_point", "filter_postcode", "filter_citycode", "filter_type", "uppercase", "bis_ter", "commas"}

// LoadCorpus reads an Addok ndjson file (gzip or plain) or a balise index,
// told apart by the index's magic bytes.
func LoadCorpus(path string, seed uint64) (*Corpus, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", path, err)
	}
	head := make([]byte, len(indexMagic))
	_, rerr := io.ReadFull(f, head)
	f.Close()
	if rerr == nil && string(head) == indexMagic {
		ix, err := index.Open(path, index.OpenOptions{})
		if err != nil {
			return nil, err
		}
		defer ix.Close()
		return CorpusFromIndex(ix, seed)
	}
	lines, err := source.OpenLines(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer lines.Close()
	c, err := CorpusFromLines(lines, seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// reservoir keeps a uniform sample of at most max items of a stream
// (Vitter's algorithm R), deterministic for a given seed and input order.
type reservoir struct {
	r    *rand.Rand
	seen int
}

// slot returns where the next item goes: len(items) to append, an index to
// replace, or -1 to drop it.
func (rv *reservoir) slot(n, max int) int {
	rv.seen++
	if n < max {
		return n
	}
	if j := rv.r.IntN(rv.seen); j < max {
		return j
	}
	return -1
}

type corpusBuilder struct {
	c          Corpus
	st, mu     reservoir
	numbersBuf []Number
}

func newCorpusBuilder(seed uint64) *corpusBuilder {
	return &corpusBuilder{
		st: reservoir{r: rand.New(rand.NewPCG(seed, 0x5eed))},
		mu: reservoir{r: rand.New(rand.NewPCG(seed, 0xc17e))},
	}
}

func (b *corpusBuilder) addMunicipality(name string) {
	if name == "" {
		return
	}
	switch j := b.mu.slot(len(b.c.Municipalities), maxMunicipalities); {
	case j == len(b.c.Municipalities):
		b.c.Municipalities = append(b.c.Municipalities, strings.Clone(name))
	case j >= 0:
		b.c.Municipalities[j] = strings.Clone(name)
	}
}

// addStreet takes numbers the caller may reuse: they are copied (at most
// maxNumbersPerStreet of them, evenly spread along the street).
func (b *corpusBuilder) addStreet(name, city, postcode, citycode string, numbers []Number) {
	if name == "" || len(numbers) == 0 {
		return
	}
	j := b.st.slot(len(b.c.Streets), maxStreets)
	if j < 0 {
		return
	}
	keep := numbers
	if len(numbers) > maxNumbersPerStreet {
		keep = make([]Number, maxNumbersPerStreet)
		for i := range keep {
			keep[i] = numbers[i*len(numbers)/maxNumbersPerStreet]
		}
	}
	own := make([]Number, len(keep))
	for i, n := range keep {
		own[i] = Number{Raw: strings.Clone(n.Raw), Lat: n.Lat, Lon: n.Lon}
	}
	s := Street{Name: strings.Clone(name), City: strings.Clone(city), Postcode: strings.Clone(postcode), Citycode: strings.Clone(citycode), Numbers: own}
	if j == len(b.c.Streets) {
		b.c.Streets = append(b.c.Streets, s)
	} else {
		b.c.Streets[j] = s
	}
}

func (b *corpusBuilder) finish() (*Corpus, error) {
	if len(b.c.Streets) == 0 {
		return nil, errors.New("no street with housenumbers to generate requests from")
	}
	if len(b.c.Municipalities) == 0 {
		// Generation needs a name for the "municipality" formulation.
		for _, s := range b.c.Streets {
			if s.City != "" {
				b.c.Municipalities = append(b.c.Municipalities, s.City)
				break
			}
		}
	}
	return &b.c, nil
}

// CorpusFromLines reads Addok ndjson lines.
func CorpusFromLines(lines *source.Lines, seed uint64) (*Corpus, error) {
	b := newCorpusBuilder(seed)
	for {
		batch, err := lines.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		for i, l := range batch.Lines {
			d, err := source.ParseLine(l, batch.LineNos[i])
			if err != nil {
				return nil, err
			}
			first := func(k string) string {
				v, ok := d.Get(k)
				if !ok {
					return ""
				}
				if v.Kind == source.List {
					if len(v.List) == 0 {
						return ""
					}
					v = v.List[0]
				}
				return v.String()
			}
			switch first("type") {
			case "municipality":
				b.addMunicipality(first("name"))
			case "street":
				nums := b.numbersBuf[:0]
				for _, h := range d.Housenumbers {
					lat, ok1 := h.Lat.Float()
					lon, ok2 := h.Lon.Float()
					if ok1 && ok2 && standardNumber.MatchString(h.Raw) {
						nums = append(nums, Number{Raw: h.Raw, Lat: lat, Lon: lon})
					}
				}
				b.numbersBuf = nums
				b.addStreet(first("name"), first("city"), first("postcode"), first("citycode"), nums)
			}
		}
	}
	return b.finish()
}

// CorpusFromIndex walks every document of an index.
func CorpusFromIndex(ix *index.Index, seed uint64) (*Corpus, error) {
	b := newCorpusBuilder(seed)
	var d index.Doc
	for id := range ix.NumDocs() {
		if err := ix.Doc(uint32(id), &d); err != nil {
			return nil, err
		}
		first := func(k string) string {
			v, ok := d.Get(k)
			if !ok {
				return ""
			}
			if v.Kind == index.KindList {
				if len(v.Items) == 0 {
					return ""
				}
				v = v.Items[0]
			}
			switch v.Kind {
			case index.KindString:
				return v.Str
			case index.KindInt, index.KindFloat, index.KindRaw:
				return string(v.AppendJSON(nil))
			}
			return ""
		}
		switch first("type") {
		case "municipality":
			b.addMunicipality(first("name"))
		case "street":
			nums := b.numbersBuf[:0]
			for i := range d.NumHousenumbers() {
				h, err := d.HousenumberAt(i)
				if err != nil {
					return nil, err
				}
				if standardNumber.MatchString(h.Raw) {
					nums = append(nums, Number{Raw: h.Raw, Lat: h.Lat, Lon: h.Lon})
				}
			}
			b.numbersBuf = nums
			b.addStreet(first("name"), first("city"), first("postcode"), first("citycode"), nums)
		}
	}
	return b.finish()
}

// standardNumber is what people type: "12", "12bis", "12b". Keys like
// "145p2" (Paris private ways) or 5-digit BANO numbers are identifiers
// nobody types.
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
	w := []rune(words[best])
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
	words[best] = string(w)
	return strings.Join(words, " ")
}

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

// Generate makes n requests of the mix from the corpus. The list is a pure
// function of (corpus, mix, n, seed).
func Generate(c *Corpus, mix Mix, n int, seed uint64) ([]Request, error) {
	if n <= 0 {
		n = defaultGenerateCount
	}
	if n > MaxRequests {
		return nil, fmt.Errorf("cannot generate %d requests (at most %d)", n, MaxRequests)
	}
	if c == nil || len(c.Streets) == 0 {
		return nil, errors.New("empty corpus")
	}
	if _, err := ParseMix(string(mix)); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]Request, 0, n)
	nextSearch := 0
	attempts := 0
	for len(out) < n {
		class := mix
		if mix == MixMixed {
			switch x := r.Float64(); {
			case x < 0.50:
				class = MixSearch
			case x < 0.85:
				class = MixAutocomplete
			default:
				class = MixReverse
			}
		}
		// Retry within the class (a street may have no abbreviation, no
		// "bis"…), so that failures do not skew the mix.
		for {
			if attempts++; attempts > n*maxAttemptsPerRequest {
				return nil, fmt.Errorf("could only generate %d of %d requests from this corpus", len(out), n)
			}
			var req Request
			var ok bool
			switch class {
			case MixSearch:
				// Round-robin over the formulations keeps them in equal parts.
				req, ok = genSearch(r, c, searchKinds[nextSearch%len(searchKinds)])
				if ok {
					nextSearch++
				}
			case MixAutocomplete:
				req, ok = genAutocomplete(r, c)
			case MixReverse:
				req, ok = genReverse(r, c)
			}
			if ok {
				out = append(out, req)
				break
			}
		}
	}
	return out, nil
}

func pick(r *rand.Rand, c *Corpus) (Street, Number) {
	s := c.Streets[r.IntN(len(c.Streets))]
	return s, s.Numbers[r.IntN(len(s.Numbers))]
}

// genSearch makes one query of a relevance-suite formulation (the same
// recipes as internal/relevance generateSuite).
func genSearch(r *rand.Rand, c *Corpus, kind string) (Request, bool) {
	s, h := pick(r, c)
	q := search.Query{}
	switch kind {
	case "full":
		q.Q = fmt.Sprintf("%s %s %s %s", h.Raw, s.Name, s.Postcode, s.City)
	case "no_postcode":
		q.Q = fmt.Sprintf("%s %s %s", h.Raw, s.Name, s.City)
	case "street_city":
		q.Q = fmt.Sprintf("%s %s", s.Name, s.City)
	case "municipality":
		q.Q = c.Municipalities[r.IntN(len(c.Municipalities))]
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
		q.Q, q.Filters = fmt.Sprintf("%s %s", s.Name, s.City), []search.Filter{{Name: "type", Values: []string{"street"}}}
	case "uppercase":
		q.Q = strings.ToUpper(fmt.Sprintf("%s %s %s %s", h.Raw, s.Name, s.Postcode, s.City))
	case "bis_ter":
		if strings.ContainsFunc(h.Raw, unicode.IsLetter) {
			q.Q = fmt.Sprintf("%s %s %s", displayNumber(h.Raw), s.Name, s.City)
		}
	case "commas":
		q.Q = fmt.Sprintf("%s, %s, %s %s", h.Raw, s.Name, s.Postcode, s.City)
	}
	q.Q = strings.Join(strings.Fields(q.Q), " ") // an empty postcode leaves a double space
	if q.Q == "" {
		return Request{}, false
	}
	return SearchRequest(kind, q), true
}

// genAutocomplete makes a keystroke prefix: at least 3 characters of
// "number street city" (or "street city"), cut anywhere.
func genAutocomplete(r *rand.Rand, c *Corpus) (Request, bool) {
	s, h := pick(r, c)
	full := s.Name + " " + s.City
	if r.IntN(2) == 0 {
		full = h.Raw + " " + full
	}
	full = strings.Join(strings.Fields(full), " ")
	if len(full) < 3 {
		return Request{}, false
	}
	q := search.Query{Q: strings.TrimSpace(cutUTF8(full, 3+r.IntN(len(full)-2))), Autocomplete: true}
	if len(q.Q) < 3 {
		return Request{}, false // "17 " is sent trimmed: too short to be worth a request
	}
	kind := "autocomplete"
	if r.Float64() < autocompleteFocusRate {
		// A map centre near the address, as a web map sends its view's.
		q.HasCenter, q.Lat, q.Lon = true, round6(h.Lat+(r.Float64()-0.5)*0.05), round6(h.Lon+(r.Float64()-0.5)*0.07)
		kind = "autocomplete_focus"
	}
	return SearchRequest(kind, q), true
}

func genReverse(r *rand.Rand, c *Corpus) (Request, bool) {
	_, h := pick(r, c)
	q := search.ReverseQuery{Lat: round6(h.Lat + (r.Float64()-0.5)*reverseJitterLatDeg), Lon: round6(h.Lon + (r.Float64()-0.5)*reverseJitterLonDeg)}
	kind := "reverse"
	if r.IntN(10) == 0 {
		q.Filters, kind = []search.Filter{{Name: "type", Values: []string{"housenumber"}}}, "reverse_type"
	}
	return ReverseRequest(kind, q), true
}

// round6 keeps 6 decimals (0.1 m), as clients send coordinates; it keeps
// paths short and readable.
func round6(f float64) float64 {
	const k = 1e6
	if f < 0 {
		return -float64(int64(-f*k+0.5)) / k
	}
	return float64(int64(f*k+0.5)) / k
}

// CorpusFromBytes reads an Addok ndjson held in memory (gzip or plain),
// such as the bundled sample.
func CorpusFromBytes(data []byte, seed uint64) (*Corpus, error) {
	lines, err := source.NewLines(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	defer lines.Close()
	return CorpusFromLines(lines, seed)
}
