package cli

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
	"time"

	"balise/internal/index"
	"balise/internal/sample"
	"balise/internal/search"
	"balise/internal/text"
)

// engineFlags are the search settings shared by serve and geocode.
type engineFlags struct {
	index           *string
	cacheDir        *string
	commonThreshold *int
	queryMaxLength  *int
	timeBudget      *time.Duration
	fuzzy           *int
	gcPercent       *int
}

func addEngineFlags(fs *flag.FlagSet) *engineFlags {
	d := search.DefaultConfig()
	return &engineFlags{
		index:           fs.String("index", "", "index `file` (default: the bundled Paris sample, built on first use into the cache directory)"),
		cacheDir:        fs.String("cache-dir", "", "where the bundled sample index is built (default: the user cache directory)"),
		commonThreshold: fs.Int("common-threshold", d.CommonThreshold, "tokens found in more documents than this are \"common\" (Addok's COMMON_THRESHOLD; lower it on small indexes)"),
		queryMaxLength:  fs.Int("query-max-length", d.QueryMaxLength, "longest query accepted, in folded characters (longer: 413; Addok's QUERY_MAX_LENGTH)"),
		timeBudget:      fs.Duration("time-budget", d.TimeBudget, "time one search may spend collecting candidates before answering with what it has (0: unbounded)"),
		fuzzy:           fs.Int("fuzzy", d.Fuzzy, "typo tolerance: 1 tries one-edit variants when nothing matches, 0 disables it"),
		gcPercent:       fs.Int("gc-percent", 400, "Go GC target (GOGC) unless GOGC is set: the index is memory-mapped, so the heap is small and the default 100 collects far too often (400 gave 1.7x the /search throughput)"),
	}
}

// config is the search configuration the flags describe.
func (f *engineFlags) config() search.Config {
	cfg := search.DefaultConfig()
	cfg.CommonThreshold = *f.commonThreshold
	cfg.QueryMaxLength = *f.queryMaxLength
	cfg.TimeBudget = *f.timeBudget
	cfg.Fuzzy = *f.fuzzy
	return cfg
}

// setGC applies --gc-percent unless GOGC is set.
func (f *engineFlags) setGC(env Env) { setGCPercent(env, *f.gcPercent) }

// setGCPercent sets the GC target to percent (a --gc-percent flag) unless
// the operator set GOGC, which wins.
func setGCPercent(env Env, percent int) {
	if env.Getenv("GOGC") == "" && percent > 0 {
		debug.SetGCPercent(percent)
	}
}

// open opens the index (or the sample) and builds the engine; verify
// checks every section's checksum first (a reload does, so that a bad new
// file is refused while the old one keeps serving).
func (f *engineFlags) open(ctx context.Context, verify bool) (*search.Engine, error) {
	return openEngine(ctx, *f.index, *f.cacheDir, f.config(), verify)
}

// openEngine opens the index at path, or the bundled sample (built on
// first use into cacheDir, "" for the user cache directory) when path is
// empty, and builds an engine over it.
func openEngine(ctx context.Context, path, cacheDir string, cfg search.Config, verify bool) (*search.Engine, error) {
	if path == "" {
		p, err := sample.Path(ctx, cacheDir)
		if err != nil {
			return nil, fmt.Errorf("cannot prepare the bundled sample index: %w", err)
		}
		path = p
	}
	ix, err := index.Open(path, index.OpenOptions{Verify: verify})
	if err != nil {
		return nil, err
	}
	e, err := search.New(ix, cfg, text.Config{})
	if err != nil {
		ix.Close()
		return nil, err
	}
	return e, nil
}
