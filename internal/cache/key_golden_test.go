package cache

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// updateKeys rewrites testdata/keys.golden. Keys are persistent (Redis
// holds them for up to a day, across releases): a change of encoding must
// be deliberate, and then come with a new key version ("s2", "r2").
var updateKeys = flag.Bool("update-keys", false, "rewrite testdata/keys.golden from the current key builder")

const keysGolden = "testdata/keys.golden"

// goldenKey is one line of the golden file: a request and its key.
type goldenKey struct {
	Config  KeyConfig       `json:"config"`
	Search  *SearchRequest  `json:"search,omitempty"`
	Reverse *ReverseRequest `json:"reverse,omitempty"`
	Key     []byte          `json:"key"`
}

func (g goldenKey) build(t *testing.T) []byte {
	k := mustKeys(t, g.Config)
	if g.Search != nil {
		return []byte(k.Search(*g.Search))
	}
	return []byte(k.Reverse(*g.Reverse))
}

// goldenValues draws filter values that exercise the canonical form:
// blanks, padding, duplicates, near-duplicates, and lists on both sides
// of MaxFilterValues.
func goldenValues(rng *rand.Rand) []string {
	pool := []string{"", " ", "75001", " 75001", "75001 ", "75002", "7500", "1", "street", "housenumber",
		"municipality", "Île", "a:b", "3:abc", "é", "\t69001\n", "a", "b", "c"}
	n := rng.IntN(14)
	if rng.IntN(20) == 0 {
		n = 20 + rng.IntN(60)
	}
	vals := make([]string, n)
	for i := range vals {
		if rng.IntN(3) == 0 {
			vals[i] = fmt.Sprintf("%05d", rng.IntN(400))
		} else {
			vals[i] = pool[rng.IntN(len(pool))]
		}
	}
	return vals
}

func goldenFilters(rng *rand.Rand) []Filter {
	names := []string{"postcode", "citycode", "type", "postcode", ""}
	fs := make([]Filter, rng.IntN(4))
	for i := range fs {
		fs[i] = Filter{Name: names[rng.IntN(len(names))], Values: goldenValues(rng)}
	}
	return fs
}

// goldenCases are the requests of the golden file, drawn from a fixed seed.
func goldenCases() []goldenKey {
	rng := rand.New(rand.NewPCG(7, 11))
	configs := []KeyConfig{DefaultKeyConfig(), {MaxFilterValues: 2}, {MaxFilterValues: 0}, {MaxFilterValues: 50}}
	var out []goldenKey
	for i := range 600 {
		g := goldenKey{Config: configs[rng.IntN(len(configs))]}
		lat, lon := -90+180*rng.Float64(), -180+360*rng.Float64()
		if i%2 == 0 {
			g.Search = &SearchRequest{IndexVersion: fmt.Sprintf("v%d", rng.IntN(3)), Endpoint: "search",
				Flavour: []string{"addok", "ban"}[rng.IntN(2)], Folded: fmt.Sprintf("%d rue de la paix", rng.IntN(50)),
				Filters: goldenFilters(rng), Limit: rng.IntN(20), Autocomplete: rng.IntN(2) == 0,
				HasFocus: rng.IntN(2) == 0, Lat: lat, Lon: lon}
		} else {
			g.Reverse = &ReverseRequest{IndexVersion: fmt.Sprintf("v%d", rng.IntN(3)), Endpoint: "reverse",
				Flavour: "addok", Lat: lat, Lon: lon, Radius: float64(rng.IntN(3) * 100),
				Filters: goldenFilters(rng), Limit: 1 + rng.IntN(10)}
		}
		out = append(out, g)
	}
	return out
}

// The key of every golden request is byte for byte the one recorded.
func TestKeysGolden(t *testing.T) {
	if *updateKeys {
		var buf bytes.Buffer
		for _, g := range goldenCases() {
			g.Key = g.build(t)
			line, err := json.Marshal(g)
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(append(line, '\n'))
		}
		if err := os.WriteFile(filepath.FromSlash(keysGolden), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(filepath.FromSlash(keysGolden))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var g goldenKey
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if got := g.build(t); !bytes.Equal(got, g.Key) {
			t.Errorf("line %d: key changed\n got %q\nwant %q", n+1, got, g.Key)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 600 {
		t.Fatalf("golden file holds %d keys; want 600", n)
	}
}
