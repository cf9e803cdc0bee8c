package ratelimit

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// APIKey is one line of the keys file: a named key (only its SHA-256 is
// kept) with optional budgets of its own.
type APIKey struct {
	// Name identifies the key in logs and in the Client ("key:<name>").
	Name string
	// Hash is the SHA-256 of the key as sent in the key header.
	Hash [sha256.Size]byte
	// Interactive and Batch override the class budgets for this key.
	Interactive, Batch Override
}

// Override replaces parts of a class's default budget for one API key;
// the zero Override keeps the default.
type Override struct {
	PerSecond    float64 // with SetPerSecond; 0 is unlimited
	Burst        int     // with SetBurst; 0 is one second's worth
	SetPerSecond bool
	SetBurst     bool
}

// apply resolves the key's budget from the class default. A rate given
// without a burst gets its own default burst, not the class's: a key
// allowed 500/s must not be held to the 50 a second of the public budget.
func (o Override) apply(def Rate) Rate {
	r := def
	if o.SetPerSecond {
		r = Rate{PerSecond: o.PerSecond}
	}
	if o.SetBurst {
		r.Burst = o.Burst
	}
	return r.normalized()
}

// KeyHash is the "sha256:<hex>" form of key, for a keys file that must
// not hold the keys themselves.
func KeyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Bounds of the keys file.
const (
	maxKeyLine    = 4096
	maxKeys       = 100_000
	maxKeyName    = 64
	minPlainKey   = 16 // shorter keys could be guessed by brute force
	maxPlainKey   = 256
	maxHeaderKey  = 512 // longest key header value looked up at all
	keyHashPrefix = "sha256:"
)

// ParseKeys reads a keys file: one key per line,
//
//	<name> <key-or-sha256:hex> [rate=N] [burst=N] [batch-rate=N] [batch-burst=N]
//
// where name is 1–64 characters of [A-Za-z0-9._@-], the key is either
// the key itself (16–256 printable ASCII characters, not starting with #)
// or "sha256:" and the 64 hex digits of its SHA-256 (see [KeyHash]), and
// the options override the class budgets (rate 0 is unlimited; a rate
// without a burst gets one second's worth). Blank lines are skipped and a
// field starting with # comments out the rest of its line. Duplicate
// names or keys are refused. Errors give the line number; they never
// quote a key.
func ParseKeys(r io.Reader) ([]APIKey, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxKeyLine)
	var keys []APIKey
	names := map[string]int{}
	hashes := map[[sha256.Size]byte]int{}
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		for i, f := range fields {
			if strings.HasPrefix(f, "#") {
				fields = fields[:i]
				break
			}
		}
		if len(fields) == 0 {
			continue
		}
		k, err := parseKeyLine(fields)
		if err != nil {
			return nil, fmt.Errorf("keys line %d: %w", line, err)
		}
		if prev, dup := names[k.Name]; dup {
			return nil, fmt.Errorf("keys line %d: name %q already used on line %d", line, k.Name, prev)
		}
		if prev, dup := hashes[k.Hash]; dup {
			return nil, fmt.Errorf("keys line %d: same key as line %d", line, prev)
		}
		if len(keys) == maxKeys {
			return nil, fmt.Errorf("keys line %d: more than %d keys", line, maxKeys)
		}
		names[k.Name], hashes[k.Hash] = line, line
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("keys line %d: longer than %d bytes", line+1, maxKeyLine)
		}
		return nil, fmt.Errorf("keys file: %w", err)
	}
	return keys, nil
}

func parseKeyLine(fields []string) (APIKey, error) {
	var k APIKey
	if len(fields) < 2 {
		return k, errors.New("want <name> <key-or-sha256:hex> [rate=N] [burst=N] [batch-rate=N] [batch-burst=N]")
	}
	if !validKeyName(fields[0]) {
		return k, fmt.Errorf("bad name (want 1-%d characters of A-Z a-z 0-9 . _ @ -)", maxKeyName)
	}
	k.Name = fields[0]
	var err error
	if k.Hash, err = parseKeySecret(fields[1]); err != nil {
		return k, err
	}
	for i, opt := range fields[2:] {
		if err := k.setOption(opt); err != nil {
			return k, fmt.Errorf("field %d: %w", i+3, err)
		}
	}
	return k, nil
}

func validKeyName(s string) bool {
	if s == "" || len(s) > maxKeyName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '@' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// parseKeySecret hashes a plain key or decodes a sha256: one.
func parseKeySecret(s string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	if hexPart, ok := strings.CutPrefix(s, keyHashPrefix); ok {
		if len(hexPart) != 2*sha256.Size {
			return sum, fmt.Errorf("sha256: key hash must be %d hex digits, got %d characters", 2*sha256.Size, len(hexPart))
		}
		if _, err := hex.Decode(sum[:], []byte(hexPart)); err != nil {
			return sum, errors.New("sha256: key hash is not hexadecimal")
		}
		return sum, nil
	}
	if len(s) < minPlainKey || len(s) > maxPlainKey {
		return sum, fmt.Errorf("key must be %d to %d characters long (or sha256:<hex>)", minPlainKey, maxPlainKey)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return sum, errors.New("key must be printable ASCII")
		}
	}
	return sha256.Sum256([]byte(s)), nil
}

// setOption applies one name=value option, refusing repeats.
func (k *APIKey) setOption(opt string) error {
	name, value, ok := strings.Cut(opt, "=")
	if !ok {
		return errors.New("want an option name=value")
	}
	var o *Override
	var isRate bool
	switch name {
	case "rate":
		o, isRate = &k.Interactive, true
	case "burst":
		o = &k.Interactive
	case "batch-rate":
		o, isRate = &k.Batch, true
	case "batch-burst":
		o = &k.Batch
	default:
		return errors.New("unknown option (want rate=, burst=, batch-rate= or batch-burst=)")
	}
	if isRate {
		if o.SetPerSecond {
			return fmt.Errorf("option %s given twice", name)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(v) || v < 0 || v > maxPerSecond {
			return fmt.Errorf("option %s: want a number of units per second from 0 (unlimited) to %g", name, float64(maxPerSecond))
		}
		o.PerSecond, o.SetPerSecond = v, true
		return nil
	}
	if o.SetBurst {
		return fmt.Errorf("option %s given twice", name)
	}
	v, err := strconv.Atoi(value)
	if err != nil || v < 0 || v > maxBurst {
		return fmt.Errorf("option %s: want a whole number of units from 0 to %d", name, maxBurst)
	}
	o.Burst, o.SetBurst = v, true
	return nil
}
