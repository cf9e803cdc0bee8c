package memlimit

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"balise/internal/testutil"
)

var costSample = testutil.NewSample(2000)

// The parsers of /proc/self/cgroup, /proc/self/mountinfo, memory.max and
// /proc/self/statm: no panic, a cgroup directory always within its mount
// point, no negative limit, and a cost linear in the files' size.
func FuzzCgroupFiles(f *testing.F) {
	f.Add([]byte("0::/system.slice/balise.service\n"), []byte(mountV2), []byte("1073741824\n"), []byte("10 8 3 1 0 4 0\n"))
	f.Add([]byte("4:memory:/process_api/4423\n0::/\n"), []byte(mountHybrid), []byte(v1Unlimited), []byte("1 1 1"))
	f.Add([]byte("11:memory,hugetlb:/docker/abc\n"), []byte("600 590 0:40 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n"), []byte("max"), []byte(""))
	f.Add([]byte("0::/../../x\n"), []byte(`1 2 3:4 /a\040b /m\134n - cgroup2 c rw`), []byte("-1"), []byte("x y z"))
	f.Fuzz(func(t *testing.T, cg, mountinfo, limit, statm []byte) {
		if loc, ok := locate(cg, mountinfo); ok {
			if !within(loc.dir, loc.mountPoint) || !strings.HasPrefix(loc.dir, "/") {
				t.Fatalf("cgroup dir %q outside its mount point %q", loc.dir, loc.mountPoint)
			}
		}
		if n, err := parseLimit(limit); n < 0 || (err != nil && n != 0) {
			t.Fatalf("parseLimit(%q) = %d, %v", limit, n, err)
		}
		parseStatm(statm, 4096)
		if costSample.Next() {
			testutil.CheckLinearCost(t, 16, 6, func(k int) {
				locate(bytes.Repeat(append(cg, '\n'), k), bytes.Repeat(append(mountinfo, '\n'), k))
			})
		}
	})
}

// --memory-limit: no panic, an accepted size at least 1 MiB and one that
// reads back the same as bytes, a percentage within 1..100.
func FuzzParseValue(f *testing.F) {
	for _, s := range []string{"", "auto", "off", "80%", "1.5GiB", "800MB", "2G", "67108864", "512", "1e9", "150%", " 64 mib "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, n, err := parseValue(s)
		if err != nil {
			if kind != valueAuto || n != 0 {
				t.Fatalf("parseValue(%q): %v, %d with the error %v", s, kind, n, err)
			}
			return
		}
		switch kind {
		case valueBytes:
			if n < minFlagBytes {
				t.Fatalf("parseValue(%q) = %d bytes, under the minimum", s, n)
			}
			if k2, n2, err := parseValue(strconv.FormatInt(n, 10)); err != nil || k2 != valueBytes || n2 != n {
				t.Fatalf("%d bytes (from %q) reads back as %v, %d, %v", n, s, k2, n2, err)
			}
		case valuePercent:
			if n < 1 || n > 100 {
				t.Fatalf("parseValue(%q) = %d%%", s, n)
			}
		}
	})
}
