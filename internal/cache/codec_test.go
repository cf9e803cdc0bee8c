package cache

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func newTestCodec(t testing.TB, min int) *codec {
	t.Helper()
	c, err := newCodec(min)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}

// geojson is a realistic answer body: n features of the Addok shape with
// different numbers, scores and coordinates.
func geojson(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"type":"FeatureCollection","version":"draft","features":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"Feature","geometry":{"type":"Point","coordinates":[2.%06d,49.%06d]},"properties":{"label":"%d Boulevard du Port 80000 Amiens","score":0.%04d,"housenumber":"%d","id":"80021_6590_%05d","name":"%d Boulevard du Port","postcode":"80000","citycode":"80021","x":6489%02d.58,"y":69778%02d.25,"city":"Amiens","context":"80, Somme, Hauts-de-France","type":"housenumber","importance":0.6737,"street":"Boulevard du Port"}}`,
			290084+i*37, 897443-i*53, 8+2*i, 9713-i*71, 8+2*i, 8+2*i, 8+2*i, i, i)
	}
	b.WriteString(`],"attribution":"BAN","licence":"ETALAB-2.0","query":"8 bd du port amiens","limit":5}`)
	return []byte(b.String())
}

func TestCodecRoundTrip(t *testing.T) {
	c := newTestCodec(t, 512)
	exp := time.Unix(1_900_000_000, 0)
	f := func(body []byte, class Class, wantCompressed bool) {
		t.Helper()
		v := c.encode(body, class, exp)
		if got := v[2]&flagZstd != 0; got != wantCompressed {
			t.Errorf("compressed; got %v; want %v (body %d bytes, value %d)", got, wantCompressed, len(body), len(v))
		}
		b, cl, e, err := c.decode(v)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !bytes.Equal(b, body) || cl != class || !e.Equal(exp) {
			t.Fatalf("round trip; got %d bytes, class %v, expiry %v; want %d bytes, %v, %v", len(b), cl, e, len(body), class, exp)
		}
	}
	f(nil, ClassNotFound, false)
	f(answerBody(0), ClassNotFound, false)
	f(answerBody(5), ClassExact, true)
	f([]byte(`{"type":"FeatureCollection","features":[]}`), ClassNotFound, false)
	f(geojson(1), ClassExact, true)
	f(geojson(5), ClassFuzzy, true)
	// Incompressible data is stored raw.
	rnd := make([]byte, 4096)
	rand.NewChaCha8([32]byte{1}).Read(rnd)
	f(rnd[:600], ClassExact, false)

	for _, n := range []int{1, 5} {
		v := c.encode(geojson(n), ClassExact, exp)
		t.Logf("%d-feature GeoJSON: %d bytes raw, %d bytes in L2 (%.1fx)", n, len(geojson(n)), len(v), float64(len(geojson(n)))/float64(len(v)))
	}
}

func TestCodecRejectsBadValues(t *testing.T) {
	c := newTestCodec(t, 0)
	good := c.encode(geojson(2), ClassExact, time.Now())
	raw := newTestCodec(t, -1).encode([]byte("hello"), ClassExact, time.Now())
	mutate := func(v []byte, f func([]byte)) []byte {
		v = bytes.Clone(v)
		f(v)
		return v
	}
	for name, v := range map[string][]byte{
		"empty":          nil,
		"short":          good[:5],
		"magic":          mutate(good, func(v []byte) { v[0] = 'x' }),
		"version":        mutate(good, func(v []byte) { v[1] = 9 }),
		"flags":          mutate(good, func(v []byte) { v[2] |= 0x80 }),
		"class":          mutate(good, func(v []byte) { v[3] = byte(ClassNoStore) }),
		"length":         mutate(raw, func(v []byte) { v[8]++ }),
		"huge length":    mutate(good, func(v []byte) { v[11] = 0xff }),
		"corrupt zstd":   mutate(good, func(v []byte) { v[len(v)/2] ^= 0xff; v[len(v)-1] ^= 0xff }),
		"truncated zstd": good[:len(good)-3],
		"checksum":       mutate(good, func(v []byte) { v[12] ^= 1 }),
		"raw body":       mutate(raw, func(v []byte) { v[len(v)-1] ^= 0x20 }),
		"header class":   mutate(raw, func(v []byte) { v[3] = byte(ClassFuzzy) }),
		"header expiry":  mutate(raw, func(v []byte) { v[4]++ }),
		"zstd flag":      mutate(raw, func(v []byte) { v[2] |= flagZstd }),
	} {
		if _, _, _, err := c.decode(v); !errors.Is(err, errBadValue) {
			t.Errorf("%s: decode; got %v; want errBadValue", name, err)
		}
	}
	// An earlier release's value is recognised as such, not as corruption.
	old := append([]byte{valueMagic, oldValueVersion, 0, 1, 0, 0, 0, 0, 5, 0, 0, 0}, "hello"...)
	if _, _, _, err := c.decode(old); !errors.Is(err, errOldVersion) || errors.Is(err, errBadValue) {
		t.Errorf("version 1 value: decode; got %v; want errOldVersion", err)
	}
}

func FuzzDecodeValue(f *testing.F) {
	c := newTestCodec(f, 0)
	f.Add(c.encode(geojson(1), ClassExact, time.Now()))
	f.Add(newTestCodec(f, -1).encode([]byte("x"), ClassFuzzy, time.Now()))
	f.Add([]byte{valueMagic, valueVersion, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(c.encode(answerBody(2), ClassExact, time.Now().Add(time.Hour)))
	f.Add(newTestCodec(f, -1).encode(answerBody(1), ClassNotFound, time.Now().Add(time.Minute)))
	l := &l2{cfg: DefaultConfig()}
	l.cfg.Validate = validAnswer
	f.Fuzz(func(t *testing.T, v []byte) {
		body, class, exp, err := c.decode(v)
		if err != nil {
			return
		}
		if class < ClassExact || class > ClassNotFound {
			t.Fatalf("accepted class %d", class)
		}
		// Whatever decodes re-encodes to something that decodes the same.
		b2, c2, _, err := c.decode(c.encode(body, class, time.Now()))
		if err != nil || !bytes.Equal(b2, body) || c2 != class {
			t.Fatalf("re-encoding changed the value: %v", err)
		}
		// The checksum: a flipped bit anywhere is caught, unless the value
		// still means exactly the same (zstd frames have a few such bits).
		for i := range min(len(v), 64) {
			pos := i * len(v) / min(len(v), 64)
			flipped := bytes.Clone(v)
			flipped[pos] ^= 1 << (i % 8)
			fb, fc, fe, err := c.decode(flipped)
			if err == nil && (!bytes.Equal(fb, body) || fc != class || !fe.Equal(exp)) {
				t.Fatalf("flipping bit %d of byte %d changed the value undetected", i%8, pos)
			}
		}
		// What the L2 checks let through is an answer the handlers can
		// splice, and cannot outlive its class.
		now := time.Now()
		if l.refuse(body, class, exp, now) == "" {
			if validAnswer(body) != nil || exp.Sub(now) > l.cfg.TTL.Of(class)+expirySlack {
				t.Fatalf("accepted a %v value expiring in %v that fails validation", class, exp.Sub(now))
			}
		}
	})
}
