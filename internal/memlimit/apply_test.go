package memlimit

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// v2Tree is a cgroup v2 tree whose cgroup allows limit bytes ("max": none).
func v2Tree(t *testing.T, limit string) string {
	t.Helper()
	return tree(t, map[string]string{
		"proc/self/cgroup":                      "0::/balise\n",
		"proc/self/mountinfo":                   mountV2,
		"sys/fs/cgroup/balise/memory.max":       limit + "\n",
		"sys/fs/cgroup/balise/memory.swap.max":  "0\n",
		"sys/fs/cgroup/balise/cgroup.procs":     "1\n",
		"sys/fs/cgroup/balise/memory.oom.group": "0\n",
	})
}

func noEnv(string) string { return "" }

// restoreGoLimit puts the process's Go memory limit back after the test.
func restoreGoLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
}

func TestDecide(t *testing.T) {
	gib := v2Tree(t, "1073741824")
	unlimited := v2Tree(t, "max")
	cases := []struct {
		name, root, value string
		fraction          float64
		wantSource        string
		wantBytes         int64
		reasonHas         string
	}{
		{"default: 90% of the cgroup", gib, "", 0, SourceCgroup, frac(0.9, 1<<30), "90% of the cgroup memory limit (1073741824 bytes, /sys/fs/cgroup/balise/memory.max)"},
		{"auto with another fraction", gib, "auto", 0.5, SourceCgroup, 1 << 29, "50%"},
		{"a percentage", gib, "80%", 0, SourceFlag, frac(0.8, 1<<30), "80%"},
		{"a size", gib, "1.5GiB", 0, SourceFlag, 3 << 29, "1610612736 bytes"},
		{"SI units", gib, "800MB", 0, SourceFlag, 800e6, "800000000"},
		{"bytes", gib, " 67108864 ", 0, SourceFlag, 64 << 20, "67108864"},
		{"off", gib, "off", 0, SourceOff, 0, "off"},
		{"no cgroup limit", unlimited, "", 0, SourceNone, 0, "sets no memory limit"},
		{"a percentage without a cgroup limit", unlimited, "50%", 0, SourceNone, 0, "sets no memory limit"},
		{"no cgroup files", t.TempDir(), "", 0, SourceNone, 0, "cannot be read"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Decide(Options{Value: c.value, Fraction: c.fraction, Root: c.root, Getenv: noEnv})
			if err != nil {
				t.Fatal(err)
			}
			if s.Source != c.wantSource || s.Bytes != c.wantBytes || !strings.Contains(s.Reason, c.reasonHas) {
				t.Errorf("Decide(%q) = %+v; want source %s, %d bytes, a reason with %q", c.value, s, c.wantSource, c.wantBytes, c.reasonHas)
			}
		})
	}
}

// GOMEMLIMIT wins over the flag and the cgroup; Decide reports the limit
// the runtime holds (it applied the variable at start).
func TestDecideEnvironmentWins(t *testing.T) {
	env := func(k string) string {
		if k == "GOMEMLIMIT" {
			return "300MiB"
		}
		return ""
	}
	s, err := Decide(Options{Value: "2GiB", Root: v2Tree(t, "1073741824"), Getenv: env})
	if err != nil {
		t.Fatal(err)
	}
	want := debug.SetMemoryLimit(-1)
	if want == math.MaxInt64 {
		want = 0
	}
	if s.Source != SourceEnv || s.Bytes != want || !strings.Contains(s.Reason, "GOMEMLIMIT is set (300MiB)") || s.Cgroup.Bytes != 1<<30 {
		t.Errorf("with GOMEMLIMIT: %+v", s)
	}
	// A malformed flag is still refused, so that it is fixed before
	// GOMEMLIMIT is removed.
	if _, err := Decide(Options{Value: "lots", Root: t.TempDir(), Getenv: env}); err == nil {
		t.Error("a malformed --memory-limit accepted because GOMEMLIMIT is set")
	}
}

func TestParseValueErrors(t *testing.T) {
	for _, v := range []string{"512", "12KB", "abc", "0%", "150%", "1.5%", "-1GiB", "1e9", "GiB", ".", "1..5G",
		"99999999999TiB", "2 parsecs", strings.Repeat("9", 80), "NaN", "inf"} {
		if kind, n, err := parseValue(v); err == nil {
			t.Errorf("parseValue(%q) = %v, %d; want an error", v, kind, n)
		} else if len(err.Error()) > 200 {
			t.Errorf("parseValue(%q): error of %d bytes", v, len(err.Error()))
		}
	}
}

// Apply sets the limit it decided; "off" lifts any.
func TestApply(t *testing.T) {
	restoreGoLimit(t)
	s, err := Apply(Options{Root: v2Tree(t, "1073741824"), Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != s.Bytes || s.Bytes != frac(0.9, 1<<30) {
		t.Errorf("after Apply: Go limit %d, setting %+v", got, s)
	}
	if _, err := Apply(Options{Value: "off", Root: t.TempDir(), Getenv: noEnv}); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("after Apply(off): Go limit %d", got)
	}
	debug.SetMemoryLimit(123 << 20)
	if _, err := Apply(Options{Value: "1GiB", Getenv: func(string) string { return "123MiB" }, Root: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 123<<20 {
		t.Errorf("Apply overrode GOMEMLIMIT: %d", got)
	}
}

// statmTree is a v2 tree with a cgroup limit and a statm of resident and
// shared pages.
func statmTree(t *testing.T, limit string, resident, shared uint64) string {
	t.Helper()
	root := v2Tree(t, limit)
	statm := "900000 " + strconv.FormatUint(resident, 10) + " " + strconv.FormatUint(shared, 10) + " 500 0 20000 0\n"
	if err := os.WriteFile(root+"/proc/self/statm", []byte(statm), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// Memory readiness without any Go memory limit: the anonymous resident
// memory against the cgroup limit; file-backed pages (the mapped index)
// do not count.
func TestMonitorResidentAgainstCgroup(t *testing.T) {
	restoreGoLimit(t)
	debug.SetMemoryLimit(math.MaxInt64)
	page := uint64(os.Getpagesize())
	limit := 1000 * page
	cases := []struct {
		name             string
		resident, shared uint64
		ok               bool
	}{
		{"well under", 500, 100, true},
		{"anonymous memory at 96%", 980, 20, false},
		{"a fully cached index: resident at 98%, mostly file pages", 980, 900, true},
		{"just under 95%", 949, 0, true},
		{"at 95%", 950, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewMonitor(statmTree(t, strconv.FormatUint(limit, 10), c.resident, c.shared), Setting{})
			u := m.Check()
			if u.OK != c.ok || u.RSSBytes != c.resident*page || u.AnonRSSBytes != (c.resident-c.shared)*page ||
				u.Cgroup.Bytes != int64(limit) || u.Cgroup.Source != "/sys/fs/cgroup/balise/memory.max" || u.LimitBytes != 0 {
				t.Fatalf("Check = %+v; want ok %v", u, c.ok)
			}
			if !u.OK && u.Failing != "rss" {
				t.Errorf("failing %q, want rss", u.Failing)
			}
		})
	}
	// Without a cgroup limit nothing bounds the resident memory.
	if u := NewMonitor(statmTree(t, "max", 999, 0), Setting{}).Check(); !u.OK || u.Cgroup.Bytes != 0 {
		t.Errorf("without a cgroup limit: %+v", u)
	}
}

// The heap against the Go memory limit, and the limit's source.
func TestMonitorHeapAgainstGoLimit(t *testing.T) {
	restoreGoLimit(t)
	root := statmTree(t, "max", 10, 0)
	applied := Setting{Source: SourceFlag, Bytes: 1 << 40}
	debug.SetMemoryLimit(1 << 40)
	if u := NewMonitor(root, applied).Check(); !u.OK || u.LimitBytes != 1<<40 || u.LimitSource != SourceFlag {
		t.Errorf("a large limit: %+v", u)
	}
	live := make([]byte, 16<<20)
	for i := range live {
		live[i] = byte(i)
	}
	debug.SetMemoryLimit(8 << 20)
	u := NewMonitor(root, applied).Check()
	debug.SetMemoryLimit(1 << 40)
	runtime.KeepAlive(live)
	if u.OK || u.Failing != "heap" || u.LimitBytes != 8<<20 || u.LimitSource != "runtime" || u.HeapBytes < 16<<20 {
		t.Errorf("heap over the Go limit: %+v", u)
	}
}

func TestParseStatm(t *testing.T) {
	if rss, anon := parseStatm([]byte("10 8 3 1 0 4 0\n"), 4096); rss != 8*4096 || anon != 5*4096 {
		t.Errorf("parseStatm = %d, %d", rss, anon)
	}
	for _, in := range []string{"", "10", "10 x 3", "10 8 y"} {
		if rss, anon := parseStatm([]byte(in), 4096); rss != 0 || anon != 0 {
			t.Errorf("parseStatm(%q) = %d, %d; want zeros", in, rss, anon)
		}
	}
}

func frac(f float64, n int64) int64 { return int64(f * float64(n)) }
