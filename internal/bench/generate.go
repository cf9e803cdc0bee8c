package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"

	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/source"
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

// Corpus is the material requests are generated from: the streets with
// housenumbers and the municipality names of a file, either a seeded
// reservoir sample of them (LoadCorpus) or all of them (LoadWholeCorpus).
type Corpus struct {
	Streets        []Street
	Municipalities []string
}

// Mix names a request mix.
type Mix string

// The mixes Generate knows.
const (
	// MixSearch is the relevance suite's first 16 formulations (Formulations
	// but WrittenFormulations) in
	// equal parts (only "prefix" has autocomplete on): geocoding typed or
	// stored addresses.
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

// LoadCorpus reads a seeded sample of an Addok ndjson file (gzip or plain)
// or of a balise index, told apart by the index's magic bytes: at most
// 50,000 streets with at most 16 housenumbers each, and 20,000
// municipalities. Only housenumbers people type ("12", "12bis", "12b") with
// valid coordinates are kept.
func LoadCorpus(path string, seed uint64) (*Corpus, error) {
	return newCorpusBuilder(seed).load(path)
}

// LoadWholeCorpus reads every street with housenumbers and every
// municipality of an Addok ndjson file or a balise index, in file order,
// with every housenumber as written (unparsable coordinates read as 0):
// the relevance suite's material. Formulate skips the housenumbers nobody
// types when it draws them.
func LoadWholeCorpus(path string) (*Corpus, error) {
	return (&corpusBuilder{whole: true}).load(path)
}

func (b *corpusBuilder) load(path string) (*Corpus, error) {
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
		return b.readIndex(ix)
	}
	lines, err := source.OpenLines(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer lines.Close()
	c, err := b.readLines(lines)
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

// corpusBuilder samples the documents it is given, or keeps them all when
// whole is set.
type corpusBuilder struct {
	c          Corpus
	whole      bool
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
	switch j := b.slot(&b.mu, len(b.c.Municipalities), maxMunicipalities); {
	case j == len(b.c.Municipalities):
		b.c.Municipalities = append(b.c.Municipalities, strings.Clone(name))
	case j >= 0:
		b.c.Municipalities[j] = strings.Clone(name)
	}
}

// slot is where the next item goes (see reservoir.slot): always appended
// when the builder keeps everything.
func (b *corpusBuilder) slot(rv *reservoir, n, max int) int {
	if b.whole {
		return n
	}
	return rv.slot(n, max)
}

// addStreet takes numbers the caller may reuse: they are copied (at most
// maxNumbersPerStreet of them, evenly spread along the street, unless the
// builder keeps everything).
func (b *corpusBuilder) addStreet(name, city, postcode, citycode string, numbers []Number) {
	if name == "" || len(numbers) == 0 {
		return
	}
	j := b.slot(&b.st, len(b.c.Streets), maxStreets)
	if j < 0 {
		return
	}
	keep := numbers
	if !b.whole && len(numbers) > maxNumbersPerStreet {
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

// addDoc adds a document, given its text value of a key (the first item
// of a list) and a walk over its housenumbers.
func (b *corpusBuilder) addDoc(get func(key string) string, housenumbers func(add func(raw string, lat, lon float64, ok bool)) error) error {
	switch get("type") {
	case "municipality":
		b.addMunicipality(get("name"))
	case "street":
		nums := b.numbersBuf[:0]
		err := housenumbers(func(raw string, lat, lon float64, ok bool) {
			if b.whole || ok && standardNumber.MatchString(raw) {
				nums = append(nums, Number{Raw: raw, Lat: lat, Lon: lon})
			}
		})
		b.numbersBuf = nums
		if err != nil {
			return err
		}
		b.addStreet(get("name"), get("city"), get("postcode"), get("citycode"), nums)
	}
	return nil
}

// CorpusFromLines reads a seeded sample of Addok ndjson lines (see
// LoadCorpus).
func CorpusFromLines(lines *source.Lines, seed uint64) (*Corpus, error) {
	return newCorpusBuilder(seed).readLines(lines)
}

func (b *corpusBuilder) readLines(lines *source.Lines) (*Corpus, error) {
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
			get := func(k string) string {
				if v, ok := d.Get(k); ok && v.Kind != source.List {
					return v.String()
				} else if ok && len(v.List) > 0 {
					return v.List[0].String()
				}
				return ""
			}
			if err := b.addDoc(get, func(add func(string, float64, float64, bool)) error {
				for _, h := range d.Housenumbers {
					lat, ok1 := h.Lat.Float()
					lon, ok2 := h.Lon.Float()
					add(h.Raw, lat, lon, ok1 && ok2)
				}
				return nil
			}); err != nil {
				return nil, err
			}
		}
	}
	return b.finish()
}

// CorpusFromIndex reads a seeded sample of an index's documents (see
// LoadCorpus).
func CorpusFromIndex(ix *index.Index, seed uint64) (*Corpus, error) {
	return newCorpusBuilder(seed).readIndex(ix)
}

func (b *corpusBuilder) readIndex(ix *index.Index) (*Corpus, error) {
	var d index.Doc
	for id := range ix.NumDocs() {
		if err := ix.Doc(uint32(id), &d); err != nil {
			return nil, err
		}
		err := b.addDoc(func(k string) string { return indexText(&d, k) }, func(add func(string, float64, float64, bool)) error {
			for i := range d.NumHousenumbers() {
				h, err := d.HousenumberAt(i)
				if err != nil {
					return err
				}
				add(h.Raw, h.Lat, h.Lon, true)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return b.finish()
}

// indexText is a document's value of key k as text: the first item of a
// list, numbers as written.
func indexText(d *index.Doc, k string) string {
	v, ok := d.Get(k)
	if ok && v.Kind == index.KindList {
		if len(v.Items) == 0 {
			return ""
		}
		v = v.Items[0]
	}
	switch {
	case !ok:
		return ""
	case v.Kind == index.KindString:
		return v.Str
	case v.Kind == index.KindInt, v.Kind == index.KindFloat, v.Kind == index.KindRaw:
		return string(v.AppendJSON(nil))
	}
	return ""
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
	r := newRand(seed)
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
				req, ok = genSearch(r, c, formulations[nextSearch%len(formulations)])
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

// genSearch makes one query of a relevance-suite formulation.
func genSearch(r *rand.Rand, c *Corpus, kind string) (Request, bool) {
	cs, ok := Formulate(r, c, kind)
	if !ok {
		return Request{}, false
	}
	return SearchRequest(kind, cs.Query), true
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
