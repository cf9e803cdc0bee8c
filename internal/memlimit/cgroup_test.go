package memlimit

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Mount lines as a cgroup v2 host, a cgroup v1/hybrid host and a
// container write them in /proc/self/mountinfo.
const (
	mountV2     = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
	mountHybrid = "31 23 0:28 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n" +
		"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n" +
		"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 master:3 - cgroup cgroup rw,memory\n" +
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
	v1Unlimited = "9223372036854771712\n"
)

// tree writes files (slash-separated paths relative to the root) into a
// fresh directory and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestReadCgroup(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  Limit
	}{
		{"v2 service", map[string]string{
			"proc/self/cgroup":    "0::/system.slice/balise.service\n",
			"proc/self/mountinfo": mountV2,
			"sys/fs/cgroup/system.slice/balise.service/memory.max": "1073741824\n",
			"sys/fs/cgroup/system.slice/memory.max":                "max\n",
		}, Limit{1 << 30, "/sys/fs/cgroup/system.slice/balise.service/memory.max"}},
		{"v2 parent tighter", map[string]string{
			"proc/self/cgroup":    "0::/system.slice/balise.service\n",
			"proc/self/mountinfo": mountV2,
			"sys/fs/cgroup/system.slice/balise.service/memory.max": "1073741824\n",
			"sys/fs/cgroup/system.slice/memory.max":                "536870912\n",
		}, Limit{512 << 20, "/sys/fs/cgroup/system.slice/memory.max"}},
		{"v2 max everywhere", map[string]string{
			"proc/self/cgroup":    "0::/user.slice/session-1.scope\n",
			"proc/self/mountinfo": mountV2,
			"sys/fs/cgroup/user.slice/session-1.scope/memory.max": "max\n",
			"sys/fs/cgroup/user.slice/memory.max":                 "max\n",
		}, Limit{}},
		{"v2 container with a cgroup namespace", map[string]string{
			"proc/self/cgroup":            "0::/\n",
			"proc/self/mountinfo":         "812 790 0:26 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw\n",
			"sys/fs/cgroup/memory.max":    "268435456\n",
			"sys/fs/cgroup/memory.high":   "134217728\n", // throttling, not the kill line: ignored
			"sys/fs/cgroup/cgroup.procs":  "1\n",
			"sys/fs/cgroup/memory.events": "oom 0\n",
		}, Limit{256 << 20, "/sys/fs/cgroup/memory.max"}},
		{"v1 hybrid host", map[string]string{
			"proc/self/cgroup":    "9:name=systemd:/\n4:memory:/process_api/4423\n2:cpuacct:/\n0::/\n",
			"proc/self/mountinfo": mountHybrid,
			"sys/fs/cgroup/memory/process_api/4423/memory.limit_in_bytes": "2147483648\n",
			"sys/fs/cgroup/memory/process_api/memory.limit_in_bytes":      v1Unlimited,
			"sys/fs/cgroup/memory/memory.limit_in_bytes":                  v1Unlimited,
		}, Limit{2 << 30, "/sys/fs/cgroup/memory/process_api/4423/memory.limit_in_bytes"}},
		{"v1 unlimited", map[string]string{
			"proc/self/cgroup":    "4:memory:/process_api/4423\n0::/\n",
			"proc/self/mountinfo": mountHybrid,
			"sys/fs/cgroup/memory/process_api/4423/memory.limit_in_bytes": v1Unlimited,
			"sys/fs/cgroup/memory/memory.limit_in_bytes":                  v1Unlimited,
		}, Limit{}},
		{"v1 container: its cgroup mounted as the hierarchy root", map[string]string{
			"proc/self/cgroup":                           "11:memory,hugetlb:/docker/abc\n",
			"proc/self/mountinfo":                        "600 590 0:40 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory,hugetlb\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "805306368",
		}, Limit{768 << 20, "/sys/fs/cgroup/memory/memory.limit_in_bytes"}},
		{"mount point with a space", map[string]string{
			"proc/self/cgroup":       "0::/a\n",
			"proc/self/mountinfo":    `30 23 0:26 / /srv/cg\040v2 rw - cgroup2 cgroup2 rw` + "\n",
			"srv/cg v2/a/memory.max": "100000000\n",
		}, Limit{100000000, "/srv/cg v2/a/memory.max"}},
		{"no mountinfo: the usual mount point", map[string]string{
			"proc/self/cgroup":                "0::/job\n",
			"sys/fs/cgroup/job/memory.max":    "4294967296\n",
			"sys/fs/cgroup/job/memory.events": "",
		}, Limit{4 << 30, "/sys/fs/cgroup/job/memory.max"}},
		{"a path climbing out stays within the mount", map[string]string{
			"proc/self/cgroup":          "0::/../../etc\n",
			"proc/self/mountinfo":       mountV2,
			"sys/fs/cgroup/memory.max":  "65536000\n",
			"sys/fs/cgroup/etc/x":       "",
			"etc/memory.max":            "1\n",
			"sys/fs/memory.max":         "1\n",
			"sys/fs/cgroup/../memory.x": "",
		}, Limit{65536000, "/sys/fs/cgroup/memory.max"}},
		{"no memory controller anywhere", map[string]string{
			"proc/self/cgroup":    "2:cpu:/x\n",
			"proc/self/mountinfo": mountHybrid,
		}, Limit{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadCgroup(tree(t, c.files))
			if err != nil || got != c.want {
				t.Fatalf("ReadCgroup = %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

func TestReadCgroupErrors(t *testing.T) {
	if _, err := ReadCgroup(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("without /proc/self/cgroup: %v, want ErrNotExist", err)
	}
	root := tree(t, map[string]string{
		"proc/self/cgroup":         "0::/\n",
		"proc/self/mountinfo":      mountV2,
		"sys/fs/cgroup/memory.max": "lots\n",
	})
	_, err := ReadCgroup(root)
	if err == nil || !strings.Contains(err.Error(), "/sys/fs/cgroup/memory.max") || !strings.Contains(err.Error(), `"lots"`) {
		t.Errorf("a malformed memory.max: %v; want an error naming the file and the value", err)
	}
}

// The machine's own files, read only: whatever the setup, ReadCgroup
// answers, and a limit it reports is the content of the file it names.
func TestReadCgroupLiveSystem(t *testing.T) {
	if _, err := os.Stat("/proc/self/cgroup"); err != nil {
		t.Skip("no /proc/self/cgroup on this system")
	}
	got, err := ReadCgroup("/")
	if err != nil {
		t.Fatalf("ReadCgroup(/): %v", err)
	}
	t.Logf("live cgroup memory limit: %+v", got)
	if got.Bytes == 0 {
		if got.Source != "" {
			t.Errorf("no limit but a source: %+v", got)
		}
		return
	}
	b, err := os.ReadFile(got.Source)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil || n != got.Bytes {
		t.Errorf("%s holds %q, ReadCgroup said %d", got.Source, b, got.Bytes)
	}
}

func TestParseLimit(t *testing.T) {
	for in, want := range map[string]int64{"max\n": 0, "-1": 0, "1073741824\n": 1 << 30, v1Unlimited: 0, " 4096 ": 4096, "0": 0} {
		if got, err := parseLimit([]byte(in)); err != nil || got != want {
			t.Errorf("parseLimit(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1.5", "1G", "-2", "99999999999999999999999"} {
		if _, err := parseLimit([]byte(in)); err == nil {
			t.Errorf("parseLimit(%q): no error", in)
		}
	}
}
