package progress

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// Mode selects how a Bar draws.
type Mode uint8

const (
	Auto  Mode = iota // a redrawn bar when the writer is a terminal, else Plain
	TTY               // one line redrawn in place (carriage return), at most every 100 ms
	Plain             // a new line every Interval (default 5 s)
)

// Options configure NewWithOptions; zero values are the defaults.
type Options struct {
	Mode Mode
	// Interval is the minimum time between two draws: 5 s in Plain mode,
	// 100 ms (at most 10 redraws a second) in TTY mode.
	Interval time.Duration
	// Now is the clock (tests inject one); time.Now by default.
	Now func() time.Time
}

// Bar reports the progress of a long job. Add and Set are safe for
// concurrent use; drawing happens inside them when enough time has passed.
type Bar struct {
	w        io.Writer
	label    string
	unit     string
	tty      bool
	interval time.Duration
	now      func() time.Time
	start    time.Time

	done  atomic.Int64
	total atomic.Int64
	next  atomic.Int64 // earliest time of the next draw, ns since start

	mu       sync.Mutex // serialises drawing and Finish
	finished bool
	width    int // length of the last TTY line, to blank leftovers
}

// New returns a Bar writing to w. total is the expected amount (0 or less
// when unknown), unit the unit of Add ("B" formats as bytes: "12.3 MB";
// anything else as a count: "45.2k rows"). The bar is drawn in place when w
// is a terminal, else as a plain line every 5 seconds:
//
//	import: 45% 12.3 MB/27.1 MB 5.1 MB/s eta 3s
func New(w io.Writer, label string, total int64, unit string) *Bar {
	return NewWithOptions(w, label, total, unit, Options{})
}

// NewWithOptions is New with explicit options.
func NewWithOptions(w io.Writer, label string, total int64, unit string, o Options) *Bar {
	b := &Bar{w: w, label: label, unit: unit, now: o.Now, interval: o.Interval}
	if b.now == nil {
		b.now = time.Now
	}
	switch o.Mode {
	case TTY:
		b.tty = true
	case Plain:
	default:
		b.tty = IsTerminal(w)
	}
	if b.interval <= 0 {
		if b.tty {
			b.interval = 100 * time.Millisecond
		} else {
			b.interval = 5 * time.Second
		}
	}
	b.start = b.now()
	b.total.Store(total)
	if !b.tty {
		// a plain report only after the first interval
		b.next.Store(int64(b.interval))
	}
	return b
}

// IsTerminal reports whether w is an *os.File open on a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Add adds n to the amount done.
func (b *Bar) Add(n int64) {
	b.done.Add(n)
	b.tick()
}

// Set sets the amount done.
func (b *Bar) Set(n int64) {
	b.done.Store(n)
	b.tick()
}

// SetTotal changes the expected total (0 or less: unknown).
func (b *Bar) SetTotal(n int64) { b.total.Store(n) }

// Done returns the amount done so far.
func (b *Bar) Done() int64 { return b.done.Load() }

// tick draws when the interval has elapsed.
func (b *Bar) tick() {
	el := b.now().Sub(b.start)
	if int64(el) < b.next.Load() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished || int64(el) < b.next.Load() {
		return
	}
	b.next.Store(int64(el + b.interval))
	b.draw(el, false)
}

// Finish draws the final state (a last "done" line) and ends the bar; later
// calls do nothing.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	b.draw(b.now().Sub(b.start), true)
}

// Stats is a snapshot of a bar's figures.
type Stats struct {
	Done, Total int64
	Elapsed     time.Duration
	Rate        float64       // units per second since the start
	ETA         time.Duration // -1 when unknown
	Percent     float64       // -1 when the total is unknown
}

// Snapshot returns the current figures.
func (b *Bar) Snapshot() Stats { return b.stats(b.now().Sub(b.start)) }

func (b *Bar) stats(el time.Duration) Stats {
	s := Stats{Done: b.done.Load(), Total: b.total.Load(), Elapsed: el, ETA: -1, Percent: -1}
	if el > 0 {
		s.Rate = float64(s.Done) / el.Seconds()
	}
	if s.Total > 0 {
		s.Percent = 100 * float64(s.Done) / float64(s.Total)
		if s.Percent > 100 {
			s.Percent = 100
		}
		if s.Rate > 0 {
			left := s.Total - s.Done
			if left < 0 {
				left = 0
			}
			s.ETA = time.Duration(float64(left) / s.Rate * float64(time.Second))
		}
	}
	return s
}

// line formats the figures: "45% 12.3 MB/27.1 MB 5.1 MB/s eta 3s".
func (b *Bar) line(s Stats, final bool) string {
	var sb strings.Builder
	if s.Percent >= 0 {
		sb.WriteString(strconv.Itoa(int(s.Percent)) + "% ")
		if b.unit == "B" {
			sb.WriteString(FormatBytes(float64(s.Done)) + "/" + FormatBytes(float64(s.Total)))
		} else {
			sb.WriteString(FormatCount(float64(s.Done)) + "/" + FormatCount(float64(s.Total)) + unitSuffix(b.unit))
		}
	} else {
		sb.WriteString(b.amount(float64(s.Done)))
	}
	if final {
		sb.WriteString(" in " + formatElapsed(s.Elapsed))
		if s.Elapsed > 0 {
			sb.WriteString(" (" + b.amount(s.Rate) + "/s)")
		}
		return sb.String()
	}
	if s.Elapsed > 0 {
		sb.WriteString(" " + b.amount(s.Rate) + "/s")
	}
	if s.ETA >= 0 {
		sb.WriteString(" eta " + FormatDuration(s.ETA))
	}
	return sb.String()
}

func (b *Bar) amount(v float64) string {
	if b.unit == "B" {
		return FormatBytes(v)
	}
	return FormatCount(v) + unitSuffix(b.unit)
}

func unitSuffix(u string) string {
	if u == "" {
		return ""
	}
	return " " + u
}

const barWidth = 24

func (b *Bar) draw(el time.Duration, final bool) {
	s := b.stats(el)
	text := b.line(s, final)
	if !b.tty {
		fmt.Fprintf(b.w, "%s: %s\n", b.label, text)
		return
	}
	var sb strings.Builder
	sb.WriteString("\r" + b.label + " ")
	if s.Percent >= 0 {
		filled := int(s.Percent / 100 * barWidth)
		sb.WriteByte('[')
		sb.WriteString(strings.Repeat("=", filled))
		if filled < barWidth {
			sb.WriteByte('>')
			sb.WriteString(strings.Repeat(" ", barWidth-filled-1))
		}
		sb.WriteString("] ")
	}
	sb.WriteString(text)
	n := sb.Len()
	if pad := b.width - n; pad > 0 {
		sb.WriteString(strings.Repeat(" ", pad))
	}
	b.width = n
	if final {
		sb.WriteByte('\n')
	}
	io.WriteString(b.w, sb.String())
}

// FormatBytes formats a byte amount with decimal units: "512 B", "12.3 MB".
func FormatBytes(v float64) string {
	const units = "kMGTPE"
	if v < 1000 {
		return strconv.Itoa(int(v)) + " B"
	}
	i := -1
	for v >= 999.95 && i < len(units)-1 {
		v /= 1000
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + string(units[i]) + "B"
}

// FormatCount formats a count: "950", "9999", "12.3k", "4.5M".
func FormatCount(v float64) string {
	if v < 10000 {
		return strconv.Itoa(int(v))
	}
	const units = "kMGTPE"
	i := -1
	for v >= 999.95 && i < len(units)-1 {
		v /= 1000
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + string(units[i])
}

// FormatDuration formats a duration rounded to the second: "0s", "3s",
// "4m05s", "1h02m".
func FormatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "?"
	case d < time.Minute-time.Second/2:
		return strconv.Itoa(int((d+time.Second/2)/time.Second)) + "s"
	case d < time.Hour-time.Second/2:
		s := int((d + time.Second/2) / time.Second)
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	m := int((d + time.Minute/2) / time.Minute)
	return fmt.Sprintf("%dh%02dm", m/60, m%60)
}

// formatElapsed is FormatDuration with tenths of a second under a minute.
func formatElapsed(d time.Duration) string {
	if d >= 0 && d < time.Minute-time.Second/20 {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return FormatDuration(d)
}
