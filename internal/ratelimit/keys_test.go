package ratelimit

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func parseKeysFile(t *testing.T, name string) ([]APIKey, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ParseKeys(f)
}

func TestParseKeysGoodFile(t *testing.T) {
	keys, err := parseKeysFile(t, "good.keys")
	if err != nil {
		t.Fatal(err)
	}
	want := []APIKey{
		{Name: "partner-a", Hash: sha256.Sum256([]byte("correct-horse-battery-staple")),
			Interactive: Override{PerSecond: 200, SetPerSecond: true, Burst: 400, SetBurst: true}},
		{Name: "partner.b", Hash: sha256.Sum256([]byte("123456")),
			Batch: Override{PerSecond: 5000, SetPerSecond: true, Burst: 20000, SetBurst: true}},
		{Name: "internal@ops", Hash: sha256.Sum256([]byte("another-long-enough-secret")),
			Interactive: Override{SetPerSecond: true}},
		{Name: "slow_one", Hash: sha256.Sum256([]byte("yet-another-secret-key-42")),
			Interactive: Override{PerSecond: 0.5, SetPerSecond: true}, Batch: Override{Burst: 10, SetBurst: true}},
	}
	if len(keys) != len(want) {
		t.Fatalf("ParseKeys; got %d keys; want %d", len(keys), len(want))
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Errorf("key %d; got %+v; want %+v", i, keys[i], want[i])
		}
	}

	// The overrides resolved against the defaults, through Identify.
	l := newTestLimiter(t, Config{KeyHeader: "X-Api-Key", Keys: keys,
		Budgets: Budgets{Interactive: Rate{PerSecond: 50, Burst: 50}, Batch: Rate{PerSecond: 1000, Burst: 1000}}})
	budgets := map[string][2]Rate{
		"correct-horse-battery-staple": {{200, 400}, {1000, 1000}},
		"123456":                       {{50, 50}, {5000, 20000}},
		"another-long-enough-secret":   {{}, {1000, 1000}},
		"yet-another-secret-key-42":    {{0.5, 1}, {1000, 10}},
	}
	for key, want := range budgets {
		c, err := l.Identify(request("203.0.113.7:1", "X-Api-Key: "+key))
		if err != nil {
			t.Fatalf("Identify(%s): %v", key, err)
		}
		for class := range numClasses {
			if d := l.Allow(t.Context(), c, class, 0); d.Policy != want[class] {
				t.Errorf("%s %s budget; got %+v; want %+v", c, class, d.Policy, want[class])
			}
		}
	}
}

func TestParseKeysBadFiles(t *testing.T) {
	cases := map[string]string{
		"bad-short-key.keys":       "keys line 2: key must be 16 to 256 characters",
		"bad-duplicate-name.keys":  `keys line 4: name "k1" already used on line 3`,
		"bad-duplicate-key.keys":   "keys line 2: same key as line 1",
		"bad-rate.keys":            "keys line 1: field 3: option rate: want a number",
		"bad-repeated-option.keys": "keys line 2: field 4: option burst given twice",
		"bad-unknown-option.keys":  "keys line 3: field 3: unknown option",
		"bad-hash-length.keys":     "keys line 1: sha256: key hash must be 64 hex digits",
		"bad-hash-hex.keys":        "keys line 1: sha256: key hash is not hexadecimal",
		"bad-name.keys":            "keys line 1: bad name",
		"bad-missing-key.keys":     "keys line 1: want <name> <key-or-sha256:hex>",
		"bad-stray-field.keys":     "keys line 1: field 3: want an option name=value",
	}
	for file, want := range cases {
		_, err := parseKeysFile(t, file)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s; got %v; want an error starting %q", file, err, want)
			continue
		}
		// Errors never quote a key.
		for _, secret := range []string{"a-perfectly-fine-key", "a-second-secret", "tooshort"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error %q quotes a key", file, err)
			}
		}
	}
}

func TestParseKeysLimits(t *testing.T) {
	long := "k1 a-perfectly-fine-key-1 " + strings.Repeat("#", maxKeyLine) + "\n"
	if _, err := ParseKeys(strings.NewReader("# ok\n" + long)); err == nil || !strings.HasPrefix(err.Error(), "keys line 2: longer than") {
		t.Errorf("long line; got %v", err)
	}
	for _, line := range []string{
		"k1 a-perfectly-fine-key-1 rate=-1",
		"k1 a-perfectly-fine-key-1 rate=NaN",
		"k1 a-perfectly-fine-key-1 rate=1e10",
		"k1 a-perfectly-fine-key-1 burst=1.5",
		"k1 a-perfectly-fine-key-1 batch-burst=-3",
		"k1 key\twith\x01control-chars",
		strings.Repeat("n", 65) + " a-perfectly-fine-key-1",
	} {
		if _, err := ParseKeys(strings.NewReader(line)); err == nil {
			t.Errorf("ParseKeys(%q) accepted", line)
		}
	}
	// A rate whose burst takes longer than maxWindow to refill is refused
	// when the limiter resolves it.
	keys, err := ParseKeys(strings.NewReader("k1 a-perfectly-fine-key-1 rate=0.000001 burst=1000000000"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Keys: keys, KeyHeader: "X-Api-Key"}, nil); err == nil || !strings.Contains(err.Error(), `"k1"`) {
		t.Errorf("unrefillable key budget; got %v", err)
	}
}

func TestKeyHash(t *testing.T) {
	if got := KeyHash("123456"); got != "sha256:8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92" {
		t.Errorf("KeyHash; got %s", got)
	}
}

// TestSetKeysKeepsState reloads the keys: a key that stays keeps its
// spent budget, a removed key is unknown, a new one starts full.
func TestSetKeysKeepsState(t *testing.T) {
	clk := newClock()
	parse := func(s string) []APIKey {
		keys, err := ParseKeys(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	l := newTestLimiter(t, Config{KeyHeader: "X-Api-Key", Now: clk.Now, Budgets: Budgets{Interactive: Rate{PerSecond: 1, Burst: 3}},
		Keys: parse("a key-of-partner-a-0001\nb key-of-partner-b-0001\n")})
	identify := func(key string) (Client, error) { return l.Identify(request("203.0.113.7:1", "X-Api-Key: "+key)) }
	a, _ := identify("key-of-partner-a-0001")
	l.Allow(t.Context(), a, Interactive, 2)
	if err := l.SetKeys(parse("a key-of-partner-a-0001\nc key-of-partner-c-0001\n")); err != nil {
		t.Fatal(err)
	}
	a, _ = identify("key-of-partner-a-0001")
	if d := l.Allow(t.Context(), a, Interactive, 0); d.Remaining != 1 {
		t.Errorf("kept key after reload; got %d remaining; want 1", d.Remaining)
	}
	if _, err := identify("key-of-partner-b-0001"); err == nil {
		t.Error("removed key still known")
	}
	c, err := identify("key-of-partner-c-0001")
	if d := l.Allow(t.Context(), c, Interactive, 0); err != nil || d.Remaining != 3 {
		t.Errorf("new key; got %d remaining, %v; want 3", d.Remaining, err)
	}
	if err := l.SetKeys([]APIKey{{Name: "x"}, {Name: "x", Hash: [32]byte{1}}}); err == nil {
		t.Error("duplicate names accepted by SetKeys")
	}
}
