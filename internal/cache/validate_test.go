package cache

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"balise/internal/testutil"
)

// validAnswer checks a body in the handlers' shape (see answerBody): a
// uvarint count, then exactly that many JSON objects, comma-separated.
func validAnswer(body []byte) error {
	n, k := binary.Uvarint(body)
	if k <= 0 || n > 1000 {
		return errors.New("bad result count")
	}
	features := body[k:]
	if n == 0 {
		if len(features) != 0 {
			return errors.New("features after a zero count")
		}
		return nil
	}
	array := make([]byte, 0, len(features)+2)
	array = append(append(append(array, '['), features...), ']')
	if !json.Valid(array) {
		return errors.New("features are not JSON")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(array, &items); err != nil {
		return errors.New("features are not a JSON list")
	}
	if uint64(len(items)) != n {
		return fmt.Errorf("%d features, count says %d", len(items), n)
	}
	for _, it := range items {
		if it[0] != '{' {
			return errors.New("a feature is not an object")
		}
	}
	return nil
}

func TestValidAnswer(t *testing.T) {
	for n := range 4 {
		if err := validAnswer(answerBody(n)); err != nil {
			t.Errorf("validAnswer(answerBody(%d)): %v", n, err)
		}
	}
	good := answerBody(2)
	for name, b := range map[string][]byte{
		"empty":      nil,
		"count high": append([]byte{3}, good[1:]...),
		"count low":  append([]byte{1}, good[1:]...),
		"not json":   append([]byte{1}, "<script>"...),
		"not object": append([]byte{2}, "1,2"...),
		"trailing":   append(answerBody(0), ' '),
		"truncated":  good[:len(good)-1],
	} {
		if validAnswer(b) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// l2Fixture is a cache over a real redis-server and the means to write
// raw values under its keys.
type l2Fixture struct {
	srv   *testutil.RedisServer
	c     *Cache
	logs  *testutil.SyncBuffer
	codec *codec
}

func newL2Fixture(t *testing.T, mod func(*Config)) *l2Fixture {
	srv := testutil.StartRedis(t)
	cfg := redisConfig(srv.URL())
	cfg.Validate = validAnswer
	if mod != nil {
		mod(&cfg)
	}
	c, logs := newLoggedCache(t, cfg)
	return &l2Fixture{srv: srv, c: c, logs: logs, codec: newTestCodec(t, 512)}
}

// put writes raw as the Redis value of key.
func (f *l2Fixture) put(t *testing.T, key string, raw []byte) {
	t.Helper()
	if err := rawClient(t, f.srv.Addr()).Set(context.Background(), f.c.l2.redisKey(key), raw, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
}

// stored returns the decoded body Redis holds for key (nil if none).
func (f *l2Fixture) stored(t *testing.T, key string) []byte {
	t.Helper()
	v, err := rawClient(t, f.srv.Addr()).Get(context.Background(), f.c.l2.redisKey(key)).Bytes()
	if err != nil {
		return nil
	}
	body, _, _, err := f.codec.decode(v)
	if err != nil {
		t.Fatalf("Redis holds an undecodable value for %s: %v", key, err)
	}
	return body
}

// waitGone waits until Redis no longer holds key.
func (f *l2Fixture) waitGone(t *testing.T, key string) {
	t.Helper()
	rc := rawClient(t, f.srv.Addr())
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		if n, err := rc.Exists(context.Background(), f.c.l2.redisKey(key)).Result(); err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis still holds %s", key)
		}
	}
}

const forgedText = "FORGED 3 rue Mouffetard"

// A well-formed value (right header, right checksum) whose body fails
// validation is a miss, counted, logged without its content, and replaced
// by the fresh answer.
func TestRedisValidatorRefusesForgedValue(t *testing.T) {
	f := newL2Fixture(t, nil)
	ctx := context.Background()
	forged := append([]byte{1}, `{"type":"Feature"},<img src=x>`+forgedText...)
	f.put(t, "k", f.codec.encode(forged, ClassExact, time.Now().Add(time.Hour)))

	fresh := answerBody(2)
	v, tier, err := f.c.Do(ctx, "k", func(context.Context) ([]byte, Class, error) { return fresh, ClassExact, nil })
	if err != nil || tier != TierNone || !bytes.Equal(v, fresh) {
		t.Fatalf("Do over a forged value; got %d bytes, %v, %v; want the computed answer", len(v), tier, err)
	}
	if got := promtest.ToFloat64(f.c.m.redisInvalid.WithLabelValues(invalidValidator)); got != 1 {
		t.Errorf("invalid values (validator); got %v; want 1", got)
	}
	waitWrites(t, f.c, 1)
	if got := f.stored(t, "k"); !bytes.Equal(got, fresh) {
		t.Errorf("Redis holds %q; want the fresh answer over the forged one", got)
	}
	recs := logLines(t, f.logs, "refused an L2 value")
	if len(recs) != 1 || recs[0]["reason"] != invalidValidator || recs[0]["redis_key"] != f.c.l2.redisKey("k") {
		t.Errorf("logs: %v; want one record with the reason and the hashed key", recs)
	}
	if strings.Contains(f.logs.String(), "Mouffetard") {
		t.Errorf("the log quotes the refused value: %s", f.logs.String())
	}
	// A second process serves the fresh answer from L2.
	if v, tier, ok := mustNew(t, redisConfig(f.srv.URL()), nil).Get(ctx, "k"); !ok || tier != TierL2 || !bytes.Equal(v, fresh) {
		t.Errorf("Get from a fresh cache; got %v, %v; want the fresh answer from L2", tier, ok)
	}
}

// Without a fresh answer to write (Get, an error, a no-store answer), a
// refused value is deleted.
func TestRedisRefusedValueDeleted(t *testing.T) {
	f := newL2Fixture(t, nil)
	ctx := context.Background()
	forged := f.codec.encode([]byte("\x01"+forgedText), ClassExact, time.Now().Add(time.Hour))
	f.put(t, "get", forged)
	if _, _, ok := f.c.Get(ctx, "get"); ok {
		t.Fatal("Get served a value that fails validation")
	}
	f.waitGone(t, "get")

	f.put(t, "nostore", forged)
	if _, tier, err := f.c.Do(ctx, "nostore", constant(string(answerBody(1)), ClassNoStore)); err != nil || tier != TierNone {
		t.Fatalf("Do; got %v, %v", tier, err)
	}
	f.waitGone(t, "nostore")

	f.put(t, "failed", forged)
	boom := errors.New("engine down")
	if _, _, err := f.c.Do(ctx, "failed", func(context.Context) ([]byte, Class, error) { return nil, 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("Do; got %v; want the computation's error", err)
	}
	f.waitGone(t, "failed")
	for deadline := time.Now().Add(5 * time.Second); promtest.ToFloat64(f.c.m.redisDeletes) < 3; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("deletes counted %v; want 3", promtest.ToFloat64(f.c.m.redisDeletes))
		}
	}
	if st := f.c.Stats(); st.L2Invalid != 3 || st.L2Hits != 0 {
		t.Errorf("stats %+v; want 3 invalid values and no L2 hit", st)
	}
}

// The checksum catches a corrupt body without any validator.
func TestRedisChecksumCatchesCorruption(t *testing.T) {
	f := newL2Fixture(t, func(c *Config) { c.Validate = nil; c.CompressMin = -1 })
	ctx := context.Background()
	v := f.codec.encode(answerBody(1), ClassExact, time.Now().Add(time.Hour))
	i := bytes.Index(v, []byte("Amiens"))
	v[i] = 'B' // still valid JSON: only the checksum can tell
	f.put(t, "k", v)
	if _, _, ok := f.c.Get(ctx, "k"); ok {
		t.Fatal("served a corrupt value")
	}
	if got := promtest.ToFloat64(f.c.m.redisDecodeErr); got != 1 {
		t.Errorf("decode errors; got %v; want 1", got)
	}
	f.waitGone(t, "k")
}

// A value of the previous format (version 1, no checksum) is a plain
// miss: not a decode error, and overwritten by the fresh answer.
func TestRedisOldFormatIsAMiss(t *testing.T) {
	f := newL2Fixture(t, nil)
	ctx := context.Background()
	body := answerBody(1)
	old := make([]byte, 12, 12+len(body))
	old[0], old[1], old[3] = valueMagic, oldValueVersion, byte(ClassExact)
	binary.LittleEndian.PutUint32(old[4:], uint32(time.Now().Add(time.Hour).Unix()))
	binary.LittleEndian.PutUint32(old[8:], uint32(len(body)))
	f.put(t, "k", append(old, body...))

	fresh := answerBody(3)
	if _, tier, err := f.c.Do(ctx, "k", constant(string(fresh), ClassExact)); err != nil || tier != TierNone {
		t.Fatalf("Do over a version-1 value; got %v, %v; want a computation", tier, err)
	}
	st := f.c.Stats()
	if st.L2Invalid != 0 || st.L2Misses != 1 {
		t.Errorf("stats %+v; want one L2 miss and nothing invalid", st)
	}
	waitWrites(t, f.c, 1)
	if got := f.stored(t, "k"); !bytes.Equal(got, fresh) {
		t.Errorf("Redis holds %q; want the fresh answer", got)
	}
	if recs := logLines(t, f.logs, "refused"); len(recs) != 0 {
		t.Errorf("an old-format value was logged as refused: %v", recs)
	}
}

// The expiry read from Redis never makes an L1 entry outlive its class's
// TTL, and one absurdly far ahead is refused.
func TestRedisPromotionTTLCapped(t *testing.T) {
	f := newL2Fixture(t, nil)
	ctx := context.Background()
	// Within the clock-skew slack: served, promoted for at most 1 h.
	f.put(t, "skewed", f.codec.encode(answerBody(1), ClassFuzzy, time.Now().Add(time.Hour+30*time.Second)))
	if _, tier, ok := f.c.Get(ctx, "skewed"); !ok || tier != TierL2 {
		t.Fatalf("Get; got %v, %v; want an L2 hit", tier, ok)
	}
	e, ok := f.c.l1.c.GetEntryQuietly("skewed")
	if !ok || e.Value.ttl > time.Hour || e.Value.ttl < time.Hour-time.Minute {
		t.Errorf("promoted TTL; got %v, %v; want ~1h (the fuzzy TTL), not the stored expiry", e.Value.ttl, ok)
	}
	for name, exp := range map[string]time.Time{
		"year-ahead":  time.Now().Add(365 * 24 * time.Hour),
		"two-hours":   time.Now().Add(2 * time.Hour),
		"far-future":  time.Unix(1<<32-1, 0),
		"exact-class": time.Now().Add(25 * time.Hour),
	} {
		class := ClassFuzzy
		if name == "exact-class" {
			class = ClassExact
		}
		f.put(t, name, f.codec.encode(answerBody(1), class, exp))
		if _, _, ok := f.c.Get(ctx, name); ok {
			t.Errorf("%s: served a %v value expiring at %v", name, class, exp)
		}
		if _, ok := f.c.l1.c.GetEntryQuietly(name); ok {
			t.Errorf("%s: promoted into L1", name)
		}
	}
	if got := promtest.ToFloat64(f.c.m.redisInvalid.WithLabelValues(invalidExpiry)); got != 4 {
		t.Errorf("invalid values (expiry); got %v; want 4", got)
	}
}

// A validator that panics refuses the value; the cache goes on.
func TestRedisValidatorPanicRefuses(t *testing.T) {
	f := newL2Fixture(t, func(c *Config) {
		c.Validate = func([]byte) error { panic("validator bug") }
	})
	f.put(t, "k", f.codec.encode(answerBody(1), ClassExact, time.Now().Add(time.Hour)))
	v, tier, err := f.c.Do(context.Background(), "k", constant("computed", ClassExact))
	if err != nil || tier != TierNone || string(v) != "computed" {
		t.Fatalf("Do; got %q, %v, %v; want the computed answer", v, tier, err)
	}
	if got := promtest.ToFloat64(f.c.m.panics.WithLabelValues(siteValidate)); got != 1 {
		t.Errorf("validate panics; got %v; want 1", got)
	}
}
