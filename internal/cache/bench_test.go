package cache

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"balise/internal/testutil"
)

// answerBody is a body in the shape balise's handlers cache: the uvarint
// result count, then n GeoJSON Feature objects, comma-separated, without
// brackets.
func answerBody(n int) []byte {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"Feature","geometry":{"type":"Point","coordinates":[2.%06d,49.%06d]},"properties":{"label":"%d Boulevard du Port 80000 Amiens","score":0.%04d,"housenumber":"%d","id":"80021_6590_%05d","name":"%d Boulevard du Port","postcode":"80000","citycode":"80021","x":6489%02d.58,"y":69778%02d.25,"city":"Amiens","context":"80, Somme, Hauts-de-France","type":"housenumber","importance":0.6737,"street":"Boulevard du Port"}}`,
			290084+i*37, 897443-i*53, 8+2*i, 9713-i*71, 8+2*i, 8+2*i, 8+2*i, i, i)
	}
	return append(binary.AppendUvarint(nil, uint64(n)), b.String()...)
}

// benchL2 returns a cache without L1 over a fresh redis-server holding one
// 5-feature answer under "k": every Do is an L2 hit.
func benchL2(b *testing.B, cfg Config) *Cache {
	srv := testutil.StartRedis(b)
	cfg.RedisURL = srv.URL()
	cfg.MaxBytes = 0
	c := mustNew(b, cfg, nil)
	c.Set(context.Background(), "k", answerBody(5), ClassExact)
	waitWrites(b, c, 1)
	if _, tier, err := c.Do(context.Background(), "k", constant("x", ClassExact)); err != nil || tier != TierL2 {
		b.Fatalf("Do; got %v, %v; want an L2 hit", tier, err)
	}
	return c
}

func BenchmarkDoL2Hit(b *testing.B) {
	c := benchL2(b, DefaultConfig())
	ctx := context.Background()
	compute := constant("x", ClassExact)
	b.ReportAllocs()
	for b.Loop() {
		c.Do(ctx, "k", compute)
	}
}

// BenchmarkDoL2HitValidated is BenchmarkDoL2Hit with a validator of the
// handlers' body shape: what Config.Validate costs every L2 hit.
func BenchmarkDoL2HitValidated(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Validate = validAnswer
	c := benchL2(b, cfg)
	ctx := context.Background()
	compute := constant("x", ClassExact)
	b.ReportAllocs()
	for b.Loop() {
		c.Do(ctx, "k", compute)
	}
}
