package memlimit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// Files read under the root given to ReadCgroup.
const (
	procSelfCgroup    = "proc/self/cgroup"
	procSelfMountinfo = "proc/self/mountinfo"
	v2LimitFile       = "memory.max"
	v1LimitFile       = "memory.limit_in_bytes"
)

// unlimitedFloor: cgroup v1 spells "no limit" as the largest page count
// times the page size (9223372036854771712 on 4 KiB pages); anything this
// large is no limit on any machine that exists.
const unlimitedFloor = 1 << 62

// maxProcFileBytes bounds what is read of /proc/self/cgroup and
// /proc/self/mountinfo (a host with thousands of mounts stays far below).
const maxProcFileBytes = 4 << 20

// Limit is a memory limit and the file it was read from.
type Limit struct {
	// Bytes is the limit; 0 means none.
	Bytes int64 `json:"bytes,omitempty"`
	// Source is the file that set it, as a path on the live system, e.g.
	// "/sys/fs/cgroup/memory.max" ("" without a limit).
	Source string `json:"source,omitempty"`
}

// ReadCgroup returns the memory limit of the calling process's cgroup.
// root is "/" on a live system (or "" for it); tests pass a directory
// holding proc/self/cgroup, proc/self/mountinfo and the cgroup files.
//
// The memory controller is found through /proc/self/cgroup: a cgroup v1
// hierarchy listing "memory" (memory.limit_in_bytes) if there is one,
// else the v2 hierarchy (memory.max), whose mount point and root come
// from /proc/self/mountinfo so that a container's own view is honoured.
// The tightest limit of the cgroup and of its ancestors up to the mount
// point wins, since a parent's limit binds its children too. "max" and
// unlimited values count as no limit: the answer is then Limit{} and nil.
// An error means the files could not be read or understood.
func ReadCgroup(root string) (Limit, error) {
	if root == "" {
		root = "/"
	}
	cg, err := readBounded(filepath.Join(root, procSelfCgroup))
	if err != nil {
		return Limit{}, err
	}
	mountinfo, err := readBounded(filepath.Join(root, procSelfMountinfo))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Limit{}, err
	}
	loc, ok := locate(cg, mountinfo)
	if !ok {
		return Limit{}, nil // no memory controller: no limit to honour
	}
	return readLimits(root, loc)
}

// readLimits reads the limit file of loc.dir and of each ancestor up to
// loc.mountPoint, keeping the smallest limit.
func readLimits(root string, loc location) (Limit, error) {
	file := v1LimitFile
	if loc.v2 {
		file = v2LimitFile
	}
	var best Limit
	for dir := loc.dir; ; dir = path.Dir(dir) {
		live := path.Join(dir, file)
		b, err := readBounded(filepath.Join(root, filepath.FromSlash(live)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// The root cgroup has no limit file; a hybrid system's v2
			// tree may lack the controller altogether.
		case err != nil:
			return Limit{}, err
		default:
			n, err := parseLimit(b)
			if err != nil {
				return Limit{}, fmt.Errorf("%s: %w", live, err)
			}
			if n > 0 && (best.Bytes == 0 || n < best.Bytes) {
				best = Limit{Bytes: n, Source: live}
			}
		}
		if dir == loc.mountPoint || dir == "/" || dir == "." {
			return best, nil
		}
	}
}

func readBounded(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxProcFileBytes))
}

// parseLimit reads memory.max or memory.limit_in_bytes: a byte count, or
// "max"; 0 is returned for no limit.
func parseLimit(b []byte) (int64, error) {
	s := string(bytes.TrimSpace(b))
	if s == "max" || s == "-1" { // -1: what v1 accepts when writing "no limit"
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		if len(s) > 32 {
			s = s[:32] + "…"
		}
		return 0, fmt.Errorf("not a memory limit: %q", s)
	}
	if n >= unlimitedFloor {
		return 0, nil
	}
	return int64(n), nil
}

// location is where the process's memory cgroup is, as live paths.
type location struct {
	v2         bool
	dir        string // the process's cgroup directory
	mountPoint string // the hierarchy's mount point: the walk stops there
}

// locate finds the memory cgroup directory from the contents of
// /proc/self/cgroup and /proc/self/mountinfo (nil: the usual mount points
// are assumed). The directory is always within the mount point.
func locate(procCgroup, mountinfo []byte) (location, bool) {
	v2, cgPath, ok := memoryHierarchy(procCgroup)
	if !ok {
		return location{}, false
	}
	m, found := findMount(mountinfo, v2, cgPath)
	if !found {
		m = mount{root: "/", point: "/sys/fs/cgroup"}
		if !v2 {
			m.point = "/sys/fs/cgroup/memory"
		}
	}
	return location{v2: v2, dir: cgroupDir(m, cgPath), mountPoint: m.point}, true
}

// memoryHierarchy reads /proc/self/cgroup ("id:controllers:path" lines):
// the v1 hierarchy holding the memory controller wins, since a controller
// is attached to one hierarchy only; else the v2 one ("0::path").
func memoryHierarchy(data []byte) (v2 bool, cgPath string, ok bool) {
	var v2Path string
	haveV2 := false
	for line := range bytes.Lines(data) {
		id, rest, ok1 := strings.Cut(strings.TrimRight(string(line), "\r\n"), ":")
		controllers, p, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || !strings.HasPrefix(p, "/") {
			continue
		}
		if id == "0" && controllers == "" {
			v2Path, haveV2 = p, true
			continue
		}
		for c := range strings.SplitSeq(controllers, ",") {
			if c == "memory" {
				return false, p, true
			}
		}
	}
	return true, v2Path, haveV2
}

// mount is a cgroup hierarchy's mount: the cgroup shown at its point
// (root, as mountinfo's fourth field) and where it is mounted.
type mount struct{ root, point string }

// findMount picks the mount of the memory hierarchy in mountinfo: for v2
// a "cgroup2" file system, for v1 a "cgroup" one whose options name
// memory; one whose root contains cgPath is preferred (a container may
// see its own cgroup mounted as the hierarchy's root).
func findMount(mountinfo []byte, v2 bool, cgPath string) (mount, bool) {
	var first mount
	found := false
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		m, ok := parseMountLine(sc.Text(), v2)
		if !ok {
			continue
		}
		if within(cgPath, m.root) {
			return m, true
		}
		if !found {
			first, found = m, true
		}
	}
	return first, found
}

// parseMountLine reads one mountinfo line ("id parent maj:min root point
// options [optional...] - fstype source superoptions") and keeps it when
// it is the wanted cgroup hierarchy.
func parseMountLine(line string, v2 bool) (mount, bool) {
	fields := strings.Fields(line)
	sep := -1
	for i := 6; i < len(fields); i++ {
		if fields[i] == "-" {
			sep = i
			break
		}
	}
	if sep < 0 || sep+1 >= len(fields) {
		return mount{}, false
	}
	fstype := fields[sep+1]
	switch {
	case v2 && fstype == "cgroup2":
	case !v2 && fstype == "cgroup" && sep+3 < len(fields) && hasOption(fields[sep+3], "memory"):
	default:
		return mount{}, false
	}
	root, point := unescapeOctal(fields[3]), unescapeOctal(fields[4])
	if !strings.HasPrefix(root, "/") || !strings.HasPrefix(point, "/") {
		return mount{}, false
	}
	return mount{root: path.Clean(root), point: path.Clean(point)}, true
}

func hasOption(options, want string) bool {
	for o := range strings.SplitSeq(options, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	p, dir = path.Clean(p), path.Clean(dir)
	return dir == "/" || p == dir || strings.HasPrefix(p, dir+"/")
}

// cgroupDir is the live directory of cgPath under m, never outside
// m.point: a path outside the mount's view (a cgroup namespace boundary,
// "/.." entries) falls back to the mount point, which is then the
// process's own cgroup as the container sees it.
func cgroupDir(m mount, cgPath string) string {
	p := path.Clean(cgPath)
	if !within(p, m.root) {
		return m.point
	}
	rel := strings.TrimPrefix(p, m.root)
	dir := path.Join(m.point, rel)
	if !within(dir, m.point) {
		return m.point
	}
	return dir
}

// unescapeOctal undoes mountinfo's escapes (\040 for a space, \011, \012,
// \134 for a backslash).
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] <= '3' && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
