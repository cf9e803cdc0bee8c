package ban

import (
	"testing"

	"balise/internal/source"
)

func BenchmarkBANCSV(b *testing.B) {
	path := sharedFile(b, "ban-75-paris/adresses-75.csv.gz")
	g, err := LoadGazetteer(sharedFile(b, "communes/communes.csv.gz"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r, err := Open(path, Options{Options: source.Options{Strict: true}})
		if err != nil {
			b.Fatal(err)
		}
		r.SetGazetteer(g)
		eachDoc(b, r, func(*source.Document) {})
		r.Close()
	}
}
