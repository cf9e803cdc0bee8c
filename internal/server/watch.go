package server

import (
	"context"
	"time"

	"balise/internal/index"
)

// Index watch defaults: how often the served file is checked, and the
// longest pause between two reload attempts of a file that stays bad.
const (
	DefaultIndexCheckInterval = time.Second
	maxReloadBackoff          = 30 * time.Second
)

// WatchIndex checks the served index every interval until ctx ends: a
// file truncated or rewritten in place under its mapping, or a read that
// faulted (index.Index.Health), makes the index unavailable. Requests then
// get 503 instead of wrong answers or a crash, readiness fails, and the
// path is reloaded, at once and then with a growing pause while the file
// stays bad, until a good file serves again.
func (s *Server) WatchIndex(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultIndexCheckInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var nextTry time.Time
	backoff := interval
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.IndexHealth()
		s.publishUnavailable(err != nil)
		if err == nil {
			backoff, nextTry = interval, time.Time{}
			continue
		}
		if now := time.Now(); now.Before(nextTry) {
			continue
		}
		s.log.Error("the served index can no longer be read safely: answering 503 and reloading it", "err", err)
		if s.cfg.Reload == nil {
			continue
		}
		rep, rerr := s.Reload(ctx)
		if rerr == nil && rep.Result == ReloadSwapped {
			s.publishUnavailable(false)
			backoff, nextTry = interval, time.Time{}
			continue
		}
		nextTry = time.Now().Add(backoff)
		backoff = min(2*backoff, maxReloadBackoff)
	}
}

// IndexHealth is nil while the served index can be read, else why not.
func (s *Server) IndexHealth() error {
	e := s.holder.Current()
	if e == nil {
		return errNoIndex
	}
	return e.Index().Health()
}

func (s *Server) publishUnavailable(unavailable bool) {
	if tel := s.metrics(); tel != nil {
		tel.Search.SetIndexUnavailable(unavailable)
	}
}

// onPanic hears of every panic a request recovered from: it is counted,
// and a memory fault inside the served index's mapping marks that index
// unavailable at once (the watch then reloads it).
func (s *Server) onPanic(p any) (indexFault bool) {
	if tel := s.metrics(); tel != nil {
		tel.Search.ObservePanic("handler")
	}
	addr, ok := index.FaultAddr(p)
	if !ok {
		return false
	}
	e := s.holder.Current()
	if e == nil || !e.Index().Maps(addr) {
		return false
	}
	e.Index().MarkFaulted("memory fault while answering a request")
	return true
}
