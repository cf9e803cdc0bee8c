package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"syscall"
	"time"

	"balise/internal/search"
)

// Engines are what a reload opens: the engine of interactive requests,
// the engine of batch work over the same index (nil: Search) and the
// function that closes the index once both are retired and unused.
type Engines struct {
	Search *search.Engine
	Batch  *search.Engine
	Close  func() error
}

// Opener opens the index to serve again, typically the same path, which
// a new build has replaced by a rename. It should verify the file's
// checksums: a file that fails is refused and the current one keeps
// serving.
type Opener func(ctx context.Context) (Engines, error)

// ErrNoReload is returned by Reload when the server has no Opener.
var ErrNoReload = errors.New("this server cannot reload its index (no opener configured)")

var errNoIndex = errors.New("no index loaded")

// Reload results, as reported by ReloadReport.Result and counted by
// balise_index_reloads_total.
const (
	ReloadSwapped   = "swapped"   // a new index serves new requests
	ReloadUnchanged = "unchanged" // the file holds the same content version
	ReloadFailed    = "failed"    // the previous index keeps serving
)

// ReloadReport says what one reload did; it is the body of
// POST /admin/reload.
type ReloadReport struct {
	Result     string        `json:"result"`
	Previous   *IndexSummary `json:"previous,omitempty"`
	Current    *IndexSummary `json:"current,omitempty"`
	DurationMS float64       `json:"duration_ms"`
	Error      string        `json:"error,omitempty"`
}

// IndexSummary identifies a served index.
type IndexSummary struct {
	Version      string `json:"version"`
	Path         string `json:"path"`
	Documents    int64  `json:"documents"`
	Housenumbers int64  `json:"housenumbers"`
	Bytes        int64  `json:"bytes"`
	BuiltAt      string `json:"built_at,omitempty"`
}

func summarize(e *search.Engine) *IndexSummary {
	if e == nil {
		return nil
	}
	ix := e.Index()
	m := ix.Meta()
	return &IndexSummary{Version: m.Version, Path: ix.Path(), Documents: int64(m.Documents),
		Housenumbers: int64(m.Housenumbers), Bytes: int64(ix.Size()), BuiltAt: m.BuiltAt}
}

// Reload opens the index again with the configured Opener and, when its
// content version differs from the served one, swaps it in: requests in
// flight finish on the index they started with, new ones get the new
// index, and the old file is unmapped when its last request ends. Cache
// keys carry the index version, so no answer of the old index is served
// after the swap. Reloads are serialised; a failed one changes nothing.
func (s *Server) Reload(ctx context.Context) (ReloadReport, error) {
	if s.cfg.Reload == nil {
		return ReloadReport{Result: ReloadFailed, Error: ErrNoReload.Error()}, ErrNoReload
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	start := time.Now()
	rep := ReloadReport{Previous: summarize(s.holder.Current())}
	next, err := s.cfg.Reload(ctx)
	rep.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	switch {
	case err != nil:
		rep.Result, rep.Error = ReloadFailed, err.Error()
		s.log.Error("index reload failed: the previous index keeps serving", "err", err, "duration_ms", rep.DurationMS)
	case rep.Previous != nil && next.Search.Index().Meta().Version == rep.Previous.Version && s.IndexHealth() == nil:
		rep.Result, rep.Current = ReloadUnchanged, rep.Previous
		if next.Close != nil {
			next.Close()
		}
		s.log.Info("index reload: same content version, nothing swapped", "version", rep.Previous.Version, "duration_ms", rep.DurationMS)
	default:
		s.holder.SwapWithBatch(next.Search, next.Batch, next.Close)
		rep.Result, rep.Current = ReloadSwapped, summarize(next.Search)
		prev := ""
		if rep.Previous != nil {
			prev = rep.Previous.Version
		}
		s.log.Info("index reloaded", "previous_version", prev, "version", rep.Current.Version, "path", rep.Current.Path,
			"documents", rep.Current.Documents, "housenumbers", rep.Current.Housenumbers, "duration_ms", rep.DurationMS)
	}
	if tel := s.metrics(); tel != nil {
		tel.Search.ObserveReload(rep.Result)
	}
	return rep, err
}

// serveReload is POST /admin/reload: 200 with the report when swapped or
// unchanged, 500 with it when the new file was refused, 501 without an
// Opener.
func (s *Server) serveReload(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Reload(r.Context())
	status := http.StatusOK
	switch {
	case errors.Is(err, ErrNoReload):
		status = http.StatusNotImplemented
	case err != nil:
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(rep)
}

// fileStamp is what PollIndex compares: a rename over the path changes
// the inode, an in-place rewrite the size or modification time.
type fileStamp struct {
	ino   uint64
	size  int64
	mtime time.Time
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	st := fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = uint64(sys.Ino)
	}
	return st, nil
}

// PollIndex reloads when the file at path changes, checking every period
// until ctx ends. A change is acted on once the file has kept the same
// stamp for one whole period, so a file still being copied is not opened
// half written (balise import renames a complete file into place, which
// is the safe way to publish one).
func (s *Server) PollIndex(ctx context.Context, path string, period time.Duration) {
	last, err := stampOf(path)
	if err != nil {
		s.log.Warn("index poll: cannot stat the index file", "path", path, "err", err)
	}
	var pending *fileStamp
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur, err := stampOf(path)
		if err != nil {
			pending = nil // missing while being replaced: look again later
			continue
		}
		switch {
		case cur == last:
			pending = nil
		case pending == nil || *pending != cur:
			pending = &cur // changed: wait for it to settle
		default:
			pending = nil
			// A refused file is not retried until it changes again.
			s.Reload(ctx)
			last = cur
		}
	}
}
