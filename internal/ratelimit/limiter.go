package ratelimit

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config.
const (
	DefaultMaxEntries     = 1 << 20
	DefaultSweepInterval  = time.Minute
	DefaultRedisPrefix    = "balise:rl:"
	DefaultIPv6PrefixBits = 64
)

// Budgets are the per-client budgets of the two classes.
type Budgets struct {
	Interactive, Batch Rate
}

func (b Budgets) of(c Class) Rate {
	if c == Batch {
		return b.Batch
	}
	return b.Interactive
}

// Config configures a Limiter. The zero Config is valid: every budget
// unlimited, no trusted proxy, no API key, no Redis.
type Config struct {
	// Budgets are every client's budgets, unless its API key has its own.
	Budgets Budgets
	// Overflow are the budgets shared by the clients that find the table
	// full of active clients (see the package documentation); a zero
	// Rate is the class's default.
	Overflow Budgets

	// TrustedProxies are the peers whose forwarding headers are believed
	// (see ParseTrustedProxies).
	TrustedProxies []netip.Prefix
	// ProxyHeader is the forwarding header read from a trusted peer.
	ProxyHeader ProxyHeader
	// IPv6PrefixBits groups IPv6 clients by prefix, 64 by default
	// (32 to 128).
	IPv6PrefixBits int

	// KeyHeader is the request header carrying an API key ("X-Api-Key");
	// empty disables keys.
	KeyHeader string
	// Keys are the known API keys (see ParseKeys).
	Keys []APIKey

	// MaxEntries bounds the table of client budgets, DefaultMaxEntries by
	// default (about 45 bytes an entry).
	MaxEntries int
	// SweepInterval is the period of the sweep that drops the full
	// budgets from the table, DefaultSweepInterval by default; negative
	// disables it (insertions still drop full entries as they go).
	SweepInterval time.Duration

	// Redis, when set, shares the budgets across replicas.
	Redis *Redis
	// RedisPrefix prefixes the Redis key names, DefaultRedisPrefix by
	// default (redis_rate puts "rate:" before it).
	RedisPrefix string
	// RedisKeySecret keys the hash that names clients in Redis. Give every
	// replica the same secret: without one, the name of an IPv4 client
	// can be reversed by hashing the 2³² addresses.
	RedisKeySecret []byte
	// FallbackReplicas divides the budgets a replica grants alone while
	// Redis is unavailable, so that N replicas together grant about one
	// budget rather than N. 0 or 1 grants each replica the full budget.
	FallbackReplicas int

	// Now is the clock, time.Now by default (tests set their own).
	Now func() time.Time
}

// Limiter identifies clients and decides whether their requests fit
// their budgets. Its methods are safe for concurrent use.
type Limiter struct {
	clock     func() time.Time
	base      time.Time
	ident     identifier
	keyHeader string
	keys      atomic.Pointer[keySet]
	defaults  Budgets
	replicas  int

	budgets, fallback, overflow [numClasses]gcra
	overflowTAT                 [numClasses]paddedTAT

	table  *table
	shared *shared
	m      *metrics

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// paddedTAT keeps the hot shared TATs on cache lines of their own.
type paddedTAT struct {
	tat int64
	_   [56]byte
}

// keyState is a known API key: its budgets and its own TATs (keyed
// clients are few and trusted: they never compete for the table).
type keyState struct {
	name              string
	hash              [sha256.Size]byte
	id                [16]byte
	budgets, fallback [numClasses]gcra
	tat               [numClasses]int64
}

type keySet struct {
	byHash map[[sha256.Size]byte]*keyState
	byName map[string]*keyState
}

// New builds a Limiter and registers its metrics on reg (nil: not
// registered). Call Close to stop its sweeper.
func New(cfg Config, reg prometheus.Registerer) (*Limiter, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	trusted, err := newTrustSet(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	l := &Limiter{
		clock:     cfg.Now,
		ident:     identifier{trusted: trusted, header: cfg.ProxyHeader, v6bits: cfg.IPv6PrefixBits},
		keyHeader: http.CanonicalHeaderKey(strings.TrimSpace(cfg.KeyHeader)),
		defaults:  cfg.Budgets,
		replicas:  cfg.FallbackReplicas,
		table:     newTable(cfg.MaxEntries),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	l.base = l.clock()
	for c := range numClasses {
		def := cfg.Budgets.of(c).normalized()
		over := cfg.Overflow.of(c)
		if over == (Rate{}) {
			over = def
		}
		l.budgets[c], l.fallback[c], l.overflow[c] = newGCRA(def), newGCRA(def.divided(cfg.FallbackReplicas)), newGCRA(over)
	}
	if err := l.SetKeys(cfg.Keys); err != nil {
		return nil, err
	}
	if l.m, err = newMetrics(reg, l); err != nil {
		return nil, err
	}
	if cfg.Redis != nil {
		l.shared = newShared(cfg, l.m)
	}
	if cfg.SweepInterval > 0 {
		go l.sweeper(cfg.SweepInterval)
	} else {
		close(l.done)
	}
	return l, nil
}

// defaults fills the zero fields and validates the rest.
func (cfg *Config) defaults() error {
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.RedisPrefix == "" {
		cfg.RedisPrefix = DefaultRedisPrefix
	}
	if cfg.IPv6PrefixBits == 0 {
		cfg.IPv6PrefixBits = DefaultIPv6PrefixBits
	}
	if cfg.FallbackReplicas == 0 {
		cfg.FallbackReplicas = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch {
	case cfg.MaxEntries < 1:
		return fmt.Errorf("rate limit table size must be at least 1, got %d", cfg.MaxEntries)
	case cfg.IPv6PrefixBits < 32 || cfg.IPv6PrefixBits > 128:
		return fmt.Errorf("IPv6 client prefix must be 32 to 128 bits, got %d", cfg.IPv6PrefixBits)
	case cfg.FallbackReplicas < 1:
		return fmt.Errorf("fallback replica count must be at least 1, got %d", cfg.FallbackReplicas)
	case cfg.ProxyHeader > HeaderPreferForwarded:
		return fmt.Errorf("unknown proxy header mode %d", cfg.ProxyHeader)
	case cfg.Redis != nil && (cfg.Redis.Client == nil || cfg.Redis.Guard == nil):
		return errors.New("rate limit Redis needs both a client and a guard")
	}
	for c := range numClasses {
		for _, b := range []struct {
			what string
			r    Rate
		}{{"", cfg.Budgets.of(c)}, {"overflow ", cfg.Overflow.of(c)}} {
			if err := b.r.Validate(); err != nil {
				return fmt.Errorf("%s%s budget: %w", b.what, c, err)
			}
			if err := b.r.normalized().divided(cfg.FallbackReplicas).Validate(); err != nil {
				return fmt.Errorf("%s%s budget divided among %d replicas: %w", b.what, c, cfg.FallbackReplicas, err)
			}
		}
	}
	return nil
}

// SetKeys replaces the known API keys, for a keys file reloaded while
// serving (one call at a time). A key that keeps its name keeps its
// budget's state; requests identified before the call finish with the
// keys they were identified by.
func (l *Limiter) SetKeys(keys []APIKey) error {
	set := &keySet{byHash: make(map[[sha256.Size]byte]*keyState, len(keys)), byName: make(map[string]*keyState, len(keys))}
	old := l.keys.Load()
	for _, k := range keys {
		if _, dup := set.byName[k.Name]; dup {
			return fmt.Errorf("API key %q given twice", k.Name)
		}
		if _, dup := set.byHash[k.Hash]; dup {
			return fmt.Errorf("API key %q: same key as another", k.Name)
		}
		ks := &keyState{name: k.Name, hash: k.Hash, id: keyID(k.Name)}
		for c, o := range [numClasses]Override{Interactive: k.Interactive, Batch: k.Batch} {
			r := o.apply(l.defaults.of(Class(c)).normalized())
			if err := r.Validate(); err != nil {
				return fmt.Errorf("API key %q, %s budget: %w", k.Name, Class(c), err)
			}
			ks.budgets[c], ks.fallback[c] = newGCRA(r), newGCRA(r.divided(l.replicas))
		}
		if old != nil {
			if prev := old.byName[k.Name]; prev != nil {
				for c := range ks.tat {
					ks.tat[c] = atomic.LoadInt64(&prev.tat[c])
				}
			}
		}
		set.byHash[k.Hash], set.byName[k.Name] = ks, ks
	}
	l.keys.Store(set)
	return nil
}

// keyID is the identity of an API key's client: a digest of its name,
// so that it fits the same 16 bytes as an address.
func keyID(name string) [16]byte {
	sum := sha256.Sum256([]byte("balise ratelimit key\x00" + name))
	return [16]byte(sum[:16])
}

// Identify returns the client a request is charged to: its API key's
// when the key header is set (ErrUnknownKey when the key is not known),
// otherwise its address (see the package documentation for the trust
// model). Identify never fails for an address: a malformed forwarding
// header falls back to the nearest trustworthy address.
func (l *Limiter) Identify(r *http.Request) (Client, error) {
	if l.keyHeader != "" {
		if values := r.Header[l.keyHeader]; len(values) > 1 || len(values) == 1 && strings.TrimSpace(values[0]) != "" {
			c, err := l.keyed(values)
			if err != nil {
				l.m.unknownKeys.Inc()
				return c, err
			}
			l.m.identified[c.via].Inc()
			return c, nil
		}
	}
	c := l.ident.fromRequest(r.RemoteAddr, r.Header)
	l.m.identified[c.via].Inc()
	return c, nil
}

// Allow takes n units (n ≤ 0 takes none) from c's budget of the given
// class if they are available, and says so. A request larger than the
// whole burst is refused with TooLarge set, without taking anything.
// With Redis configured, the shared budget decides; when Redis fails or
// takes longer than the guard's timeout, this process decides alone
// (Source is then SourceFallback): Allow never fails and never waits
// longer than the guard.
func (l *Limiter) Allow(ctx context.Context, c Client, class Class, n int) Decision {
	d := l.decide(ctx, c, class.valid(), max(n, 0))
	l.m.record(d)
	return d
}

func (l *Limiter) decide(ctx context.Context, c Client, class Class, n int) Decision {
	g, fb := l.budgetsOf(c, class)
	if g.rate.Unlimited() {
		return Decision{Allowed: true, Cost: n, Class: class, Source: SourceUnlimited}
	}
	tooLarge := n > g.rate.Burst
	take := n
	if tooLarge {
		take = 0 // only read the budget, for the headers
	}
	var d Decision
	if l.shared != nil {
		var err error
		if d, err = l.shared.take(ctx, c, class, g, take); err != nil {
			// This replica's share, all of it for a request larger
			// than the share but within the whole budget.
			d = l.local(c, class, fb, min(take, fb.rate.Burst), SourceFallback)
		}
	} else {
		d = l.local(c, class, g, take, SourceLocal)
	}
	d.Cost = n
	if tooLarge {
		d.Allowed, d.TooLarge, d.RetryAfter = false, true, 0
	}
	return d
}

// budgetsOf returns c's budget of class and its fallback share.
func (l *Limiter) budgetsOf(c Client, class Class) (gcra, gcra) {
	if c.kind == kindKey && c.key != nil {
		return c.key.budgets[class], c.key.fallback[class]
	}
	return l.budgets[class], l.fallback[class]
}

// local decides in this process: a keyed client in its key's state, an
// address in the table, or in the overflow budget when the table is full.
func (l *Limiter) local(c Client, class Class, g gcra, n int, src Source) Decision {
	now := l.now()
	if c.kind == kindKey && c.key != nil {
		return g.take(&c.key.tat[class], now, n).decision(g, class, src)
	}
	if v, ok := l.table.take(slotKey{id: c.id, kind: c.kind, class: class}, g, now, n, l.m.evicted); ok {
		return v.decision(g, class, src)
	}
	og := l.overflow[class]
	return og.take(&l.overflowTAT[class].tat, now, min(n, og.rate.Burst)).decision(og, class, SourceOverflow)
}

// minWaitStep keeps Wait from spinning on a budget whose next unit is
// due in a few nanoseconds.
const minWaitStep = time.Millisecond

// Wait takes n units from c's budget, waiting for them as long as needed:
// it paces a CSV stream to the client's budget. A cost larger than the
// burst is taken a burst at a time. It returns ctx.Err() when ctx ends
// first (the units already taken stay taken). It sleeps until the units
// are due, it does not poll.
func (l *Limiter) Wait(ctx context.Context, c Client, class Class, n int) error {
	class = class.valid()
	start := time.Now()
	defer func() { l.m.wait[class].Observe(time.Since(start).Seconds()) }()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	chunk := n
	for n > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := l.decide(ctx, c, class, min(n, chunk))
		switch {
		case d.Source == SourceUnlimited:
			return nil
		case d.TooLarge:
			chunk = max(1, d.Policy.Burst)
			continue
		case d.Allowed:
			l.m.record(d)
			n -= d.Cost
			continue
		}
		delay := max(d.RetryAfter, minWaitStep)
		if timer == nil {
			timer = time.NewTimer(delay)
		} else {
			timer.Reset(delay)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
	}
	return nil
}

// Close stops the sweeper. The Limiter still decides afterwards.
func (l *Limiter) Close() error {
	l.closeOnce.Do(func() {
		close(l.stop)
	})
	<-l.done
	return nil
}

func (l *Limiter) sweeper(every time.Duration) {
	defer close(l.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.sweep()
		}
	}
}

// sweep drops the full budgets from the table.
func (l *Limiter) sweep() { l.table.sweep(l.now, l.m.evicted) }

// now is the limiter's clock in nanoseconds since New: monotonic with
// time.Now, whatever the wall clock does.
func (l *Limiter) now() int64 { return int64(l.clock().Sub(l.base)) }

// TableSize is the number of budgets the table holds.
func (l *Limiter) TableSize() int { return int(l.table.size.Load()) }
