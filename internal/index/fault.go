package index

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"
	"unsafe"
)

// ErrUnavailable is returned (wrapped) by Index.Health once the file under
// the mapping has been truncated or rewritten in place, or once a read of
// the mapping faulted: what the mapping holds can no longer be trusted.
// The server stops answering from such an index and reloads the path.
var ErrUnavailable = errors.New("index file changed under its mapping")

// fileStamp is what identifies the mapped file's content: an in-place
// rewrite changes the size or the modification time of the same inode.
type fileStamp struct {
	size  int64
	mtime time.Time
}

func stampFile(f *os.File) (fileStamp, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{size: fi.Size(), mtime: fi.ModTime()}, nil
}

// CatchFaults makes a fault while reading the mapping (SIGBUS when the file
// was truncated under it) a recoverable run-time panic in the calling
// goroutine, instead of a crash of the process. Call it at the top of every
// goroutine that reads an index, as
//
//	defer index.CatchFaults()()
//
// and recover with FaultAddr. The setting is per goroutine and costs a few
// nanoseconds.
func CatchFaults() (restore func()) {
	old := debug.SetPanicOnFault(true)
	return func() { debug.SetPanicOnFault(old) }
}

// FaultAddr returns the faulting address of a recovered memory fault
// (what CatchFaults turns a SIGBUS or SIGSEGV into); ok is false for any
// other panic. A fault is the file's doing only when the address lies in
// its mapping (Maps): elsewhere it is a bug.
func FaultAddr(p any) (uintptr, bool) {
	err, ok := p.(runtime.Error)
	if !ok {
		return 0, false
	}
	a, ok := err.(interface{ Addr() uintptr })
	if !ok {
		return 0, false
	}
	return a.Addr(), true
}

// Maps tells whether addr lies inside this index's mapping: which of the
// indexes in use (a reload keeps the old one until its last request ends)
// a fault came from.
func (ix *Index) Maps(addr uintptr) bool { return inside(ix.data, addr) }

// MarkFaulted records that a read of the mapping faulted: from now on
// Health reports the index unavailable. It is safe for concurrent use and
// keeps the first reason.
func (ix *Index) MarkFaulted(reason string) {
	err := fmt.Errorf("%s: %w", reason, ErrUnavailable)
	ix.fault.CompareAndSwap(nil, &err)
}

// Health reports whether the mapping can still be trusted: nil, or an
// error wrapping ErrUnavailable when a read faulted or when the file was
// truncated, resized or modified in place since it was opened (a
// replacement by rename, the documented way to publish an index, leaves
// the mapped inode untouched and is not a change). It costs one fstat.
func (ix *Index) Health() error {
	if p := ix.fault.Load(); p != nil {
		return *p
	}
	if ix.file == nil {
		return nil // in memory, or closed
	}
	st, err := stampFile(ix.file)
	switch {
	case err != nil && errors.Is(err, os.ErrClosed):
		return nil // closed under us: its last user has released it
	case err != nil:
		return nil // an fstat failure says nothing about the content
	case st.size != ix.stamp.size:
		ix.MarkFaulted(fmt.Sprintf("the file was resized from %d to %d bytes", ix.stamp.size, st.size))
	case !st.mtime.Equal(ix.stamp.mtime):
		ix.MarkFaulted("the file was modified in place (modification time changed)")
	}
	if p := ix.fault.Load(); p != nil {
		return *p
	}
	return nil
}

// Unavailable is Health without the fstat: whether a fault or a change
// has already been seen. It costs one atomic load, for the request path.
func (ix *Index) Unavailable() bool { return ix.fault.Load() != nil }

// openGuarded runs f (the checks of Open, which read data, the mapping)
// with faults inside data turned into an ErrCorrupt error: a file
// truncated while it is being verified is refused instead of crashing the
// process. Any other panic, a fault elsewhere included, is a bug of
// balise and goes on: it must not pass for a corrupt file.
func openGuarded(data []byte, f func() (*Index, error)) (ix *Index, err error) {
	defer CatchFaults()()
	defer func() {
		if p := recover(); p != nil {
			if addr, ok := FaultAddr(p); !ok || !inside(data, addr) {
				panic(p)
			}
			ix, err = nil, fmt.Errorf("the file changed while it was being read (%v): %w", p, ErrCorrupt)
		}
	}()
	return f()
}

// inside tells whether addr lies in data.
func inside(data []byte, addr uintptr) bool {
	if len(data) == 0 {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	return addr >= start && addr-start < uintptr(len(data))
}
