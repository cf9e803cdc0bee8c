package source

import "testing"

// benchStreet is a real street line of shared/data/ban-75-paris/addok.ndjson.gz
// (Paris BAN, 20 housenumbers with x/y, two with a suffix).
var benchStreet = []byte(`{"id":"75101_2502","type":"street","name":"Rue du Cygne","postcode":"75001","citycode":["75101","75056"],"city":["Paris","Paris 1er Arrondissement"],"district":"Paris 1er Arrondissement","context":"75, Paris, Île-de-France","lat":48.86323,"lon":2.349028,"importance":0.57847,"housenumbers":{"1":{"id":"75101_2502_00001","lat":48.863121,"lon":2.349493,"x":652276.38,"y":6862761.97},"2":{"id":"75101_2502_00002","lat":48.86306,"lon":2.350305,"x":652335.89,"y":6862754.7},"3":{"id":"75101_2502_00003","lat":48.86316,"lon":2.34932,"x":652263.72,"y":6862766.41},"4":{"id":"75101_2502_00004","lat":48.863117,"lon":2.350008,"x":652314.16,"y":6862761.22},"5":{"id":"75101_2502_00005","lat":48.86318,"lon":2.34923,"x":652257.14,"y":6862768.69},"6":{"id":"75101_2502_00006","lat":48.863201,"lon":2.349547,"x":652280.42,"y":6862770.84},"7":{"id":"75101_2502_00007","lat":48.863198,"lon":2.349157,"x":652251.8,"y":6862770.74},"8":{"id":"75101_2502_00008","lat":48.863249,"lon":2.349345,"x":652265.64,"y":6862776.29},"9":{"id":"75101_2502_00009","lat":48.863218,"lon":2.349079,"x":652246.1,"y":6862773.01},"10":{"id":"75101_2502_00010","lat":48.863291,"lon":2.349164,"x":652252.4,"y":6862781.07},"11":{"id":"75101_2502_00011","lat":48.863215,"lon":2.349005,"x":652240.67,"y":6862772.72},"12":{"id":"75101_2502_00012","lat":48.863396,"lon":2.348715,"x":652219.56,"y":6862793.02},"13":{"id":"75101_2502_00013","lat":48.863228,"lon":2.34895,"x":652236.64,"y":6862774.2},"14":{"id":"75101_2502_00014","lat":48.863435,"lon":2.34855,"x":652207.49,"y":6862797.46},"15":{"id":"75101_2502_00015","lat":48.86329,"lon":2.348684,"x":652217.19,"y":6862781.25},"16":{"id":"75101_2502_00016","lat":48.863473,"lon":2.348388,"x":652195.64,"y":6862801.78},"17":{"id":"75101_2502_00017","lat":48.863364,"lon":2.348365,"x":652193.85,"y":6862789.67},"19":{"id":"75101_2502_00019","lat":48.863449,"lon":2.347776,"x":652150.72,"y":6862799.48},"15b":{"id":"75101_2502_00015_b","lat":48.863325,"lon":2.348536,"x":652206.36,"y":6862785.23},"11s":{"id":"75101_2502_00011_s","lat":48.86323,"lon":2.349028,"x":652242.37,"y":6862774.37}}}`)

func BenchmarkParseLine(b *testing.B) {
	b.SetBytes(int64(len(benchStreet)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := ParseLine(benchStreet, 1)
		if err != nil || len(d.Housenumbers) != 20 {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadAll reads and parses the whole shared Addok file on one
// goroutine (gzip decompression included).
func BenchmarkReadAll(b *testing.B) {
	path := sharedFile(b, "addok-fr/addok.ndjson.gz")
	b.ReportAllocs()
	for b.Loop() {
		r, err := Open(path, Options{Strict: true})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		eachDoc(b, r, func(*Document) { n++ })
		r.Close()
		if n != 100367 {
			b.Fatalf("%d docs", n)
		}
		done, _ := r.Progress()
		b.SetBytes(done)
	}
}

// BenchmarkLinesOnly measures decompression + line splitting alone.
func BenchmarkLinesOnly(b *testing.B) {
	path := sharedFile(b, "addok-fr/addok.ndjson.gz")
	for b.Loop() {
		l, err := OpenLines(path)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		each(b, l.Next, func(bt *Batch) { n += len(bt.Lines) })
		l.Close()
		if n != 100367 {
			b.Fatalf("%d lines", n)
		}
	}
}
