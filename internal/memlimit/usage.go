package memlimit

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
)

// ReadyFraction of a limit, once reached, makes memory readiness fail:
// of the Go memory limit by the heap (the GC is then thrashing to stay
// under it), of the cgroup limit by the anonymous resident memory (the
// kernel is about to kill the process).
const ReadyFraction = 0.95

// Usage is the process's memory against its limits, for readiness.
type Usage struct {
	// OK is false when a limit is nearly reached. It is left out of the
	// JSON form: a readiness report writes it beside the figures.
	OK bool `json:"-"`
	// Failing is "heap" or "rss" when not OK.
	Failing string `json:"failing,omitempty"`
	// HeapBytes is the live heap (runtime/metrics, no stop-the-world).
	HeapBytes uint64 `json:"heap_bytes"`
	// RSSBytes is the resident set (/proc/self/statm), pages of the mapped
	// index included; AnonRSSBytes leaves out file-backed pages, which
	// the kernel can drop under pressure: that is what is compared with
	// the cgroup limit.
	RSSBytes     uint64 `json:"rss_bytes"`
	AnonRSSBytes uint64 `json:"anon_rss_bytes"`
	// LimitBytes is the Go memory limit in force (0: none) and
	// LimitSource where it came from (a Source constant, or "runtime"
	// when it was changed after Apply).
	LimitBytes  int64  `json:"limit_bytes,omitempty"`
	LimitSource string `json:"limit_source,omitempty"`
	// Cgroup is the cgroup memory limit (Bytes 0: none), read at each
	// check since it can change at run time; CgroupErr why it could not
	// be read.
	Cgroup    Limit  `json:"cgroup"`
	CgroupErr string `json:"cgroup_error,omitempty"`
}

// Monitor checks memory for readiness. It works without any Go memory
// limit: the cgroup's limit alone bounds the resident memory.
type Monitor struct {
	root    string
	applied Setting
}

// NewMonitor reads under root ("" or "/": the live system); applied is
// what Apply decided at start (the zero Setting when it was not called),
// to report where the Go limit came from.
func NewMonitor(root string, applied Setting) *Monitor {
	if root == "" {
		root = "/"
	}
	return &Monitor{root: root, applied: applied}
}

// Check reads the figures and compares them with the limits: not OK when
// the heap reaches ReadyFraction of the Go memory limit, or the anonymous
// resident memory ReadyFraction of the cgroup limit. A figure that cannot
// be read (statm outside Linux) never fails the check.
func (m *Monitor) Check() Usage {
	u := Usage{OK: true, HeapBytes: heapBytes()}
	u.RSSBytes, u.AnonRSSBytes = readStatm(filepath.Join(m.root, "proc/self/statm"))
	u.LimitBytes = currentGoLimit()
	if u.LimitBytes > 0 {
		u.LimitSource = m.applied.Source
		if m.applied.Bytes != u.LimitBytes || u.LimitSource == "" || u.LimitSource == SourceNone || u.LimitSource == SourceOff {
			u.LimitSource = "runtime"
		}
	}
	cg, err := ReadCgroup(m.root)
	u.Cgroup = cg
	if err != nil {
		u.CgroupErr = err.Error()
	}
	switch {
	case u.LimitBytes > 0 && float64(u.HeapBytes) >= ReadyFraction*float64(u.LimitBytes):
		u.OK, u.Failing = false, "heap"
	case cg.Bytes > 0 && float64(u.AnonRSSBytes) >= ReadyFraction*float64(cg.Bytes):
		u.OK, u.Failing = false, "rss"
	}
	return u
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		return s[0].Value.Uint64()
	}
	return 0
}

// readStatm reads /proc/self/statm ("size resident shared text lib data
// dt", in pages): the resident set, and the resident set minus its
// shared (file-backed and shmem) pages. Zeros when it cannot be read.
func readStatm(name string) (rss, anon uint64) {
	b, err := readBounded(name)
	if err != nil {
		return 0, 0
	}
	return parseStatm(b, uint64(os.Getpagesize()))
}

func parseStatm(b []byte, page uint64) (rss, anon uint64) {
	f := bytes.Fields(b)
	if len(f) < 3 {
		return 0, 0
	}
	resident, err1 := strconv.ParseUint(string(f[1]), 10, 64)
	shared, err2 := strconv.ParseUint(string(f[2]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0
	}
	rss = resident * page
	if shared < resident {
		anon = (resident - shared) * page
	}
	return rss, anon
}
