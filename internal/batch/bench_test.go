package batch

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
)

// BenchmarkCSV geocodes a mixed CSV over the BAN sample; rows/s is
// reported.
func BenchmarkCSV(b *testing.B) {
	e := banEngine(b)
	rows := []string{
		"10 rue des sapins,98825", "rue des sapins,", "pouembout,", "241 rue paul kuhn,98825",
		"362 avenue de pouembout,", "lotissement les cagous,", "route territoriale 1,", "zzz qqq,",
	}
	var sb strings.Builder
	sb.WriteString("adresse,citycode\n")
	const n = 4000
	for i := range n {
		fmt.Fprintln(&sb, rows[i%len(rows)])
	}
	in := sb.String()
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		j, err := NewJob(e, strings.NewReader(in), Options{Columns: []string{"adresse"}, Filters: []FilterColumn{{"citycode", "citycode"}}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := j.Run(context.Background(), io.Discard, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
