package bench

import (
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The load generator's own cost per request must stay far below a
// request's: these measure the recording, the sampling and the parsing.

func BenchmarkRecord(b *testing.B) {
	s := &runState{}
	sh := &shard{all: hdr.New(histMin, histMax, histDigits), iv: hdr.New(histMin, histMax, histDigits),
		kinds: []*hdr.Histogram{hdr.New(histMin, histMax, kindDigits)}, kindN: make([]int64, 1), kindNE: make([]int64, 1), kindErr: make([]int64, 1)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		s.record(sh, 0, Outcome{Features: 1}, time.Duration(i%5000)*time.Microsecond)
	}
}

func BenchmarkSamplerZipf(b *testing.B) {
	s, _ := NewSampler(50_000, 1.1, 1)
	b.ReportAllocs()
	var i int64
	for b.Loop() {
		i++
		s.At(i)
	}
}

func BenchmarkParsePath(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ParsePath("/search?q=8+bd+du+port+44380+pornichet&limit=5&autocomplete=0&lat=47.26&lon=-2.34&type=housenumber")
	}
}
