package ratelimit

import (
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"

	"balise/internal/testutil"
)

// BenchmarkAllowLocal decides for 10,000 distinct clients from every
// processor at once: 50/s each, with a burst large enough that every
// request is allowed and every client stays in the table (a budget that
// refills between visits would measure entries dropped and re-added).
func BenchmarkAllowLocal(b *testing.B) {
	l := newTestLimiter(b, Config{Budgets: Budgets{Interactive: Rate{PerSecond: 50, Burst: 1e6}}})
	clients := make([]Client, 10_000)
	for i := range clients {
		clients[i] = clientFromAddr(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 64, ViaPeer)
	}
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := seq.Add(7919)
		for pb.Next() {
			i++
			l.Allow(b.Context(), clients[i%uint64(len(clients))], Interactive, 1)
		}
	})
}

// BenchmarkIdentify identifies a request that crossed two trusted
// proxies.
func BenchmarkIdentify(b *testing.B) {
	l := identifyLimiter(b, HeaderXForwardedFor)
	r := request("10.1.2.3:4711", "X-Forwarded-For: 198.51.100.1, 192.168.1.1, 10.9.9.9")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Identify(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllowRedis decides through a real redis-server on loopback.
func BenchmarkAllowRedis(b *testing.B) {
	srv := testutil.StartRedis(b)
	l := newTestLimiter(b, redisConfig(b, srv.Addr(), Budgets{Interactive: Rate{PerSecond: 1e6, Burst: 1e6}}))
	c := addrClient("203.0.113.7")
	b.ReportAllocs()
	for b.Loop() {
		if d := l.Allow(b.Context(), c, Interactive, 1); d.Source != SourceRedis {
			b.Fatalf("source %s", d.Source)
		}
	}
}

// TestTableMemory measures the table's cost per client (reported with
// -v): the package documentation quotes it.
func TestTableMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a large table")
	}
	const n = 200_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// A fixed clock: an entry whose budget has refilled may be reclaimed,
	// and on a slow run (the race detector) the first entries would be
	// before the last are in.
	clk := newClock()
	l := newTestLimiter(t, Config{Budgets: Budgets{Interactive: Rate{PerSecond: 1, Burst: 10}}, MaxEntries: n, SweepInterval: -1, Now: clk.Now})
	for i := range n {
		l.Allow(t.Context(), clientFromAddr(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 64, ViaPeer), Interactive, 1)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if l.TableSize() < n*9/10 {
		t.Fatalf("table size; got %d; want about %d", l.TableSize(), n)
	}
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / float64(l.TableSize())
	t.Logf("%d entries, %.0f bytes each", l.TableSize(), perEntry)
	if perEntry > 200 {
		t.Errorf("table entry costs %.0f bytes; want well under 200", perEntry)
	}
	runtime.KeepAlive(l)
}
