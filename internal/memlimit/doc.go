// Package memlimit sets the Go memory limit of balise serve from the
// cgroup it runs in, and checks memory for readiness.
//
// # The Go memory limit
//
// balise serve runs the GC at a high GOGC (--gc-percent 400): the index is
// memory-mapped, so the heap is small and collecting it often costs
// throughput for nothing. The price is a heap allowed to grow to five
// times its live size; in a container, that growth must not reach the
// cgroup's limit, where the kernel kills the process. A Go memory limit
// below the cgroup's makes the GC collect harder as the heap nears it, and
// only then.
//
// [Apply] picks it, first match wins:
//
//   - GOMEMLIMIT in the environment: the Go runtime applied it at start;
//     it is reported, never overridden;
//   - --memory-limit: "off", a size (2GiB, 800MB), or a percentage of the
//     cgroup limit (80%);
//   - by default, [DefaultFraction] (90 %) of the cgroup's memory limit:
//     cgroup v2 memory.max of the process's own cgroup, or cgroup v1
//     memory.limit_in_bytes of the memory hierarchy, found through
//     /proc/self/cgroup and /proc/self/mountinfo ([ReadCgroup]); the
//     tightest of the cgroup and its ancestors. "max" and v1's huge
//     "unlimited" value mean no limit, and then none is set.
//
// The returned [Setting] says what was applied and why, for a startup log
// line.
//
// # Why 90 %, and not the index size less
//
// The mapped index is not Go memory. Its resident pages are page cache:
// charged to the cgroup, but clean and file-backed, so under pressure the
// kernel drops them (and reads them again on the next fault) instead of
// killing the process, and the Go runtime does not count them against its
// limit. Subtracting the file's size from the limit would therefore be
// wrong twice: a large index in a tight container would leave the heap a
// limit so low that the GC runs without pause while memory is in fact
// available, and the pages would not be protected anyway (page cache is
// reclaimed first, whatever the Go limit).
//
// The 10 % kept outside the Go limit covers what the Go runtime does not
// track or tracks late: the limit is soft (the heap overshoots it while
// the GC catches up), the kernel charges the cgroup for socket buffers and
// for the page tables of the mapping (8 MiB per 4 GiB mapped), and the
// hottest pages of the index need a few megabytes to stay resident so
// that a heap under pressure slows the GC rather than turning every query
// into page faults. Since balise's heap is normally a small part of the
// limit, the limit only acts in an emergency (a heap grown by the L1 cache
// or large CSV jobs), where collecting harder is the right answer.
//
// # Memory readiness
//
// [Monitor.Check] fails readiness when the heap reaches [ReadyFraction]
// (95 %) of the Go memory limit, or when the anonymous resident memory
// (/proc/self/statm: resident minus shared pages) reaches 95 % of the
// cgroup limit. It works without any Go memory limit. The resident pages
// of the mapped index are left out of that comparison for the reason
// above: a fully cached index is the state to wish for, not a failure.
// The limits used and their sources are in the report.
package memlimit
