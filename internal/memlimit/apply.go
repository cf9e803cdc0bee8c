package memlimit

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultFraction of the cgroup's memory limit becomes the Go memory
// limit when none is given. See the package documentation for why 90 %.
const DefaultFraction = 0.9

// minFlagBytes is the smallest explicit limit accepted: below, the value
// is almost surely a unit forgotten ("512" for 512 MiB), and the GC would
// run without pause.
const minFlagBytes = 1 << 20

// Sources of the Go memory limit, the values of Setting.Source.
const (
	SourceEnv    = "GOMEMLIMIT" // the environment variable, applied by the Go runtime
	SourceFlag   = "flag"       // an explicit size, or a percentage of the cgroup limit
	SourceCgroup = "cgroup"     // DefaultFraction (or Options.Fraction) of the cgroup limit
	SourceOff    = "off"        // disabled on purpose
	SourceNone   = "none"       // nothing to derive it from: no cgroup limit
)

// Options tell Apply where to take the limit from.
type Options struct {
	// Value is the --memory-limit flag: "" or "auto" (a fraction of the
	// cgroup limit), "off", a percentage of the cgroup limit ("80%"), or a
	// size (1.5GiB, 800MB, 2G, bytes).
	Value string
	// Fraction of the cgroup limit in auto mode; 0 means DefaultFraction.
	Fraction float64
	// Root is where /proc and /sys are read ("" or "/": the live system).
	Root string
	// Getenv reads GOMEMLIMIT; nil means os.Getenv.
	Getenv func(string) string
}

// Setting is what Apply decided, for the startup log and readiness.
type Setting struct {
	// Bytes is the Go memory limit in force; 0 means none.
	Bytes int64 `json:"bytes,omitempty"`
	// Source is one of the Source constants.
	Source string `json:"source"`
	// Reason says why, in one sentence for the startup log.
	Reason string `json:"reason"`
	// Cgroup is the cgroup's limit as read (Bytes 0: none), whatever the
	// source; CgroupErr why it could not be read, if so.
	Cgroup    Limit  `json:"cgroup"`
	CgroupErr string `json:"cgroup_error,omitempty"`
}

// Apply decides the Go memory limit (see Decide) and sets it with
// debug.SetMemoryLimit, unless GOMEMLIMIT is set: the runtime applied
// that one at start and it always wins.
func Apply(o Options) (Setting, error) {
	s, err := Decide(o)
	if err != nil {
		return s, err
	}
	switch s.Source {
	case SourceFlag, SourceCgroup:
		debug.SetMemoryLimit(s.Bytes)
	case SourceOff:
		debug.SetMemoryLimit(math.MaxInt64)
	}
	return s, nil
}

// Decide works out the Go memory limit without setting it: GOMEMLIMIT
// when set (reported as the runtime holds it), else Options.Value, whose
// default derives it from the cgroup limit. Only a malformed Value is an
// error; a cgroup that cannot be read leaves no limit and says why.
func Decide(o Options) (Setting, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	kind, n, err := parseValue(o.Value)
	if err != nil {
		return Setting{}, err
	}
	cg, cgErr := ReadCgroup(o.Root)
	s := Setting{Cgroup: cg}
	if cgErr != nil {
		s.CgroupErr = cgErr.Error()
	}
	if env := strings.TrimSpace(getenv("GOMEMLIMIT")); env != "" {
		s.Source, s.Bytes = SourceEnv, currentGoLimit()
		s.Reason = "GOMEMLIMIT is set (" + env + "): it wins over --memory-limit and the cgroup"
		return s, nil
	}
	fraction := o.Fraction
	if fraction <= 0 || fraction > 1 {
		fraction = DefaultFraction
	}
	switch kind {
	case valueOff:
		s.Source, s.Reason = SourceOff, "--memory-limit off: no Go memory limit"
		return s, nil
	case valueBytes:
		s.Source, s.Bytes = SourceFlag, n
		s.Reason = "--memory-limit " + strconv.FormatInt(n, 10) + " bytes"
		return s, nil
	case valuePercent:
		return fromCgroup(s, float64(n)/100, SourceFlag, cgErr), nil
	}
	return fromCgroup(s, fraction, SourceCgroup, cgErr), nil
}

// fromCgroup sets s to fraction of the cgroup limit, or to no limit when
// there is none.
func fromCgroup(s Setting, fraction float64, source string, cgErr error) Setting {
	pct := strconv.FormatFloat(fraction*100, 'f', -1, 64) + "%"
	switch {
	case cgErr != nil:
		s.Source, s.Reason = SourceNone, "no Go memory limit: the cgroup memory limit cannot be read ("+cgErr.Error()+")"
	case s.Cgroup.Bytes == 0:
		s.Source, s.Reason = SourceNone, "no Go memory limit: the cgroup sets no memory limit"
	default:
		s.Source, s.Bytes = source, int64(fraction*float64(s.Cgroup.Bytes))
		s.Reason = fmt.Sprintf("%s of the cgroup memory limit (%d bytes, %s)", pct, s.Cgroup.Bytes, s.Cgroup.Source)
	}
	return s
}

// currentGoLimit is the Go memory limit in force, 0 for none.
func currentGoLimit() int64 {
	if l := debug.SetMemoryLimit(-1); l > 0 && l < math.MaxInt64 {
		return l
	}
	return 0
}

type valueKind int

const (
	valueAuto valueKind = iota
	valueOff
	valueBytes
	valuePercent
)

// sizeUnits are the units of a size: SI and binary prefixes, and the
// single letters (binary) that the other size flags of balise accept.
var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tib": 1 << 40,
}

// parseValue reads --memory-limit: "" / "auto", "off", "NN%" (of the
// cgroup limit, 1 to 100; n is the percentage) or a size in bytes.
func parseValue(v string) (valueKind, int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	switch s {
	case "", "auto":
		return valueAuto, 0, nil
	case "off", "none":
		return valueOff, 0, nil
	}
	if len(s) > 64 {
		return 0, 0, fmt.Errorf("invalid --memory-limit: %d characters (examples: 2GiB, 800MB, 80%%, off)", len(s))
	}
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(s)
	}
	num, unit := s[:i], strings.TrimSpace(s[i:])
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, 0, fmt.Errorf("invalid --memory-limit %q (examples: 2GiB, 800MB, 80%%, off)", v)
	}
	if unit == "%" {
		if f < 1 || f > 100 || f != math.Trunc(f) {
			return 0, 0, fmt.Errorf("invalid --memory-limit %q: a percentage of the cgroup limit is a whole number from 1 to 100", v)
		}
		return valuePercent, int64(f), nil
	}
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, 0, fmt.Errorf("invalid --memory-limit %q: unknown unit %q (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)", v, unit)
	}
	bytes := f * mult
	if bytes >= math.MaxInt64 {
		return 0, 0, fmt.Errorf("invalid --memory-limit %q: too large", v)
	}
	if bytes < minFlagBytes {
		return 0, 0, fmt.Errorf("invalid --memory-limit %q: under 1 MiB (a unit missing? e.g. 512MiB)", v)
	}
	return valueBytes, int64(bytes), nil
}
