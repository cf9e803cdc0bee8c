package index

import (
	"errors"
	"testing"
	"unsafe"
)

// fakeFault is a memory fault as CatchFaults reports it: a runtime error
// with the faulting address.
type fakeFault struct{ addr uintptr }

func (fakeFault) Error() string   { return "unexpected fault address" }
func (fakeFault) RuntimeError()   {}
func (f fakeFault) Addr() uintptr { return f.addr }

// Only a fault inside the file being opened makes it corrupt; a fault
// elsewhere or any other panic is a bug of balise and is not reported as
// ErrCorrupt (it goes on as a panic).
func TestOpenGuardedCorruptOnlyForFaultsInTheFile(t *testing.T) {
	data := make([]byte, 128<<10) // on the heap, which does not move (a stack may)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	open := func(p any) (repanic any, err error) {
		defer func() { repanic = recover() }()
		_, err = openGuarded(data, func() (*Index, error) { panic(p) })
		return nil, err
	}
	if p, err := open(fakeFault{addr: start + 10}); !errors.Is(err, ErrCorrupt) || p != nil {
		t.Errorf("fault inside the file: %v, panic %v", err, p)
	}
	for name, v := range map[string]any{
		"fault past the file": fakeFault{addr: start + uintptr(len(data))},
		"fault at nil":        fakeFault{addr: 8},
		"bug":                 "boom",
	} {
		if p, err := open(v); err != nil || p != v {
			t.Errorf("%s: err %v, panic %v: want the panic to go on", name, err, p)
		}
	}
}
