package text

import "testing"

var (
	benchTokens []Token
	benchFolded string
	benchWords  []string
	benchScore  float64
)

func BenchmarkQuery(b *testing.B) {
	p := NewPipeline(Config{Profile: ProfileFrench})
	b.ReportAllocs()
	for b.Loop() {
		benchFolded, benchTokens = p.Query("10 bis rue des Sapins Pouembout")
	}
}

func BenchmarkQueryLong(b *testing.B) {
	p := NewPipeline(Config{Profile: ProfileFrench})
	b.ReportAllocs()
	for b.Loop() {
		benchFolded, benchTokens = p.Query("Immeuble Plein-Centre 2 allée Jules Guesde BP 7015 31068 TOULOUSE CEDEX 7")
	}
}

func BenchmarkQueryDefault(b *testing.B) {
	p := NewPipeline(Config{})
	b.ReportAllocs()
	for b.Loop() {
		benchFolded, benchTokens = p.Query("10 rue des Sapins Pouembout")
	}
}

func BenchmarkIndex(b *testing.B) {
	p := NewPipeline(Config{Profile: ProfileFrench})
	b.ReportAllocs()
	for b.Loop() {
		benchWords = p.Index("Rue du Général de Gaulle")
	}
}

func BenchmarkNgramCompare(b *testing.B) {
	a := "10 rue des sapins 98825 pouembout"
	q := "10 rue des sapin pouembout nouvel"
	b.ReportAllocs()
	for b.Loop() {
		benchScore = NgramCompare(a, q)
	}
}

func BenchmarkFuzzy(b *testing.B) {
	p := NewPipeline(Config{Profile: ProfileFrench})
	b.ReportAllocs()
	for b.Loop() {
		benchWords = p.Fuzzy("sapin")
	}
}

func BenchmarkPhonemicize(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		benchFolded = Phonemicize("guyancourt")
	}
}

// BenchmarkAscii keeps its name so that benchstat pairs it with earlier runs.
func BenchmarkAscii(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		benchFolded = ASCII("2 allée Jules Guesde 31068 TOULOUSE")
	}
}
