// Command francegen builds a France-sized input from an Addok ndjson file
// that holds every commune and a sample of streets (the shared file: 35,011
// municipalities, 65,356 streets, 871,371 housenumbers), to measure balise
// at the size of the full BAN (about 26 M housenumbers).
//
// It writes the input unchanged, then copies-1 copies of it. In copy k each
// commune C is moved into a synthetic commune named after another real
// commune D = perm_k(C) (a fixed shuffle per copy): C's documents take D's
// name, postcode, context and district, a citycode of their own (C's code
// and k, so filters stay exact), ids suffixed with k, and every point
// shifted by D's position minus C's, so the copy lies where D is. Nothing is
// made easier than the real BAN: street names keep their real frequencies
// times copies, every commune name and postcode appears copies times with
// different streets, and each commune's area holds copies times as many
// points.
//
//	go run ./scripts/francegen -copies 30 -o /tmp/france.ndjson.gz ../shared/data/addok-fr/addok.ndjson.gz
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"balise/internal/source"
)

// commune is what a copy takes from the commune it is named after.
type commune struct {
	code                  string
	city, postcode, ctx   source.Value
	district              source.Value
	lat, lon              float64
	hasDistrict, hasPoint bool
}

func main() {
	copies := flag.Int("copies", 30, "copies in all, the input itself included")
	out := flag.String("o", "", "output file (.gz: compressed)")
	flag.Parse()
	if flag.NArg() != 1 || *out == "" || *copies < 1 || *copies > 99 {
		fmt.Fprintln(os.Stderr, "usage: francegen [-copies N (1..99)] -o out.ndjson.gz in.ndjson.gz")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out, *copies); err != nil {
		fmt.Fprintln(os.Stderr, "francegen:", err)
		os.Exit(1)
	}
}

func run(in, out string, copies int) error {
	communes, order, err := readCommunes(in)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	var w io.Writer = f
	var gz *gzip.Writer
	if strings.HasSuffix(out, ".gz") {
		gz, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
		w = gz
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	for k := range copies {
		perm := permutation(order, k)
		if err := writeCopy(bw, in, k, communes, perm); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return err
		}
	}
	return f.Close()
}

// readCommunes reads every municipality document, by citycode, and their
// codes in input order.
func readCommunes(in string) (map[string]*commune, []string, error) {
	r, err := source.Open(in, source.Options{Strict: true})
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	communes := map[string]*commune{}
	var order []string
	for {
		d, err := r.Next()
		if err == io.EOF {
			return communes, order, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if text(d, "type") != "municipality" {
			continue
		}
		code := firstCode(d)
		if code == "" || communes[code] != nil {
			continue
		}
		c := &commune{code: code}
		for _, f := range d.Fields {
			switch f.Key {
			case "city":
				c.city = clone(f.Value)
			case "postcode":
				c.postcode = clone(f.Value)
			case "context":
				c.ctx = clone(f.Value)
			case "district":
				c.district, c.hasDistrict = clone(f.Value), true
			}
		}
		lat, ok1 := num(d, "lat")
		lon, ok2 := num(d, "lon")
		c.lat, c.lon, c.hasPoint = lat, lon, ok1 && ok2
		communes[code] = c
		order = append(order, code)
	}
}

// permutation maps each commune to the one its copy k is named after;
// copy 0 is the input itself.
func permutation(order []string, k int) map[string]string {
	if k == 0 {
		return nil
	}
	shuffled := append([]string(nil), order...)
	rng := rand.New(rand.NewPCG(uint64(k), 0x62616c697365))
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	m := make(map[string]string, len(order))
	for i, c := range order {
		m[c] = shuffled[i]
	}
	return m
}

func writeCopy(w *bufio.Writer, in string, k int, communes map[string]*commune, perm map[string]string) error {
	r, err := source.Open(in, source.Options{Strict: true})
	if err != nil {
		return err
	}
	defer r.Close()
	var buf []byte
	for {
		d, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if k > 0 {
			src := communes[firstCode(d)]
			if src == nil {
				continue // a street of no known commune: left to copy 0
			}
			move(d, k, src, communes[perm[src.code]])
		}
		buf = d.AppendJSON(buf[:0])
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
}

// move turns a document of commune src into copy k's, named after dst.
func move(d *source.Document, k int, src, dst *commune) {
	suffix := fmt.Sprintf("_k%02d", k)
	dlat, dlon := 0.0, 0.0
	if src.hasPoint && dst.hasPoint {
		dlat, dlon = dst.lat-src.lat, dst.lon-src.lon
	}
	municipality := text(d, "type") == "municipality"
	fields := d.Fields[:0]
	for _, f := range d.Fields {
		switch f.Key {
		case "id":
			f.Value = source.StringValue(f.Value.Str + suffix)
		case "citycode":
			f.Value = mapStrings(f.Value, func(s string) string { return s + fmt.Sprintf("%02d", k) })
		case "city":
			f.Value = dst.city
		case "name":
			if municipality {
				f.Value = first(dst.city)
			}
		case "postcode":
			f.Value = dst.postcode
		case "context":
			f.Value = dst.ctx
		case "district":
			if !dst.hasDistrict {
				continue
			}
			f.Value = dst.district
		case "oldcity", "oldcitycode":
			continue
		case "lat":
			f.Value = shift(f.Value, dlat)
		case "lon":
			f.Value = shift(f.Value, dlon)
		}
		fields = append(fields, f)
	}
	d.Fields = fields
	for i := range d.Housenumbers {
		h := &d.Housenumbers[i]
		h.Lat, h.Lon = shift(h.Lat, dlat), shift(h.Lon, dlon)
		for j := range h.Payload {
			if h.Payload[j].Key == "id" {
				h.Payload[j].Value = source.StringValue(h.Payload[j].Value.Str + suffix)
			}
		}
	}
}

func shift(v source.Value, by float64) source.Value {
	f, ok := v.Float()
	if !ok || by == 0 {
		return v
	}
	return source.NumberValue(strconv.FormatFloat(f+by, 'f', 6, 64))
}

func mapStrings(v source.Value, fn func(string) string) source.Value {
	switch v.Kind {
	case source.String:
		return source.StringValue(fn(v.Str))
	case source.List:
		items := make([]source.Value, len(v.List))
		for i, it := range v.List {
			items[i] = mapStrings(it, fn)
		}
		return source.ListValue(items...)
	}
	return v
}

func first(v source.Value) source.Value {
	if v.Kind == source.List && len(v.List) > 0 {
		return v.List[0]
	}
	return v
}

func firstCode(d *source.Document) string {
	v, _ := d.Get("citycode")
	v = first(v)
	if v.Kind != source.String {
		return ""
	}
	return v.Str
}

func text(d *source.Document, key string) string {
	v, _ := d.Get(key)
	if v = first(v); v.Kind == source.String {
		return v.Str
	}
	return ""
}

func num(d *source.Document, key string) (float64, bool) {
	v, ok := d.Get(key)
	if !ok {
		return 0, false
	}
	return v.Float()
}

// clone copies a value's strings: a document's share its line's buffer.
func clone(v source.Value) source.Value {
	v.Str = strings.Clone(v.Str)
	if v.List != nil {
		items := make([]source.Value, len(v.List))
		for i, it := range v.List {
			items[i] = clone(it)
		}
		v.List = items
	}
	return v
}
