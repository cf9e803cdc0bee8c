package search

import (
	"fmt"
	"os"
	"testing"

	"balise/internal/index"
	"balise/internal/text"
)

func TestZZFrance(t *testing.T) {
	ix, err := index.Open(os.Getenv("ZZ_INDEX"), index.OpenOptions{})
	if err != nil {
		t.Skip(err)
	}
	cfg := DefaultConfig()
	cfg.TimeBudget = 0
	cfg.Respell, cfg.Retype = false, false
	e, _ := New(ix, cfg, text.Config{})
	for _, q := range []string{"7bis Rue des PêcheursAlbias", "7bis Rue des Pêcheurs Albias"} {
		s := newSearcher(t.Context(), e, Query{Q: q, Limit: 5})
		if err := s.prepare(); err != nil {
			t.Fatal(err)
		}
		var nf, cm, mn []string
		for _, tk := range s.notFound {
			nf = append(nf, tk.Value)
		}
		for _, tk := range s.common {
			cm = append(cm, fmt.Sprintf("%s(%d)", tk.Value, tk.freq))
		}
		for _, tk := range s.meaningful {
			mn = append(mn, fmt.Sprintf("%s(%d)", tk.Value, tk.freq))
		}
		rs := s.run()
		top := ""
		if len(rs) > 0 {
			top = rs[0].Label()
		}
		alt, ok, _ := e.respell(s.folded, false, top)
		fmt.Printf("%q notFound=%v common=%v meaningful=%v hn=%q\n   collector=%s fuzzy=%v cand=%d bucket=%d n=%d top=%q respell=%q %v\n", q, nf, cm, mn, s.hnRef, s.stats.Collector, s.stats.Fuzzy, s.stats.Candidates, s.bucket.len(), len(rs), top, alt, ok)
	}
}
