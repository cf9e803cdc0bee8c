package batch

import "math"

// maxTrackedQueries caps the memory spent spotting duplicate rows (about
// 40 bytes per distinct query): past it, new queries are no longer
// remembered and Duplicates is a lower bound.
const maxTrackedQueries = 1 << 20

// MaxReportedRecordErrors is how many skipped records Summary lists.
const MaxReportedRecordErrors = 100

// Summary describes a finished (or interrupted) job: the data-quality
// figures `balise geocode` prints.
type Summary struct {
	Rows     int64
	OK       int64
	NotFound int64
	Skipped  int64
	Errors   int64
	// Duplicates counts rows whose query (text, filters and point) repeats
	// an earlier row's; only when Options.TrackDuplicates is set.
	Duplicates int64
	// DuplicatesCapped tells that too many distinct queries were seen to
	// remember them all: Duplicates is then a lower bound.
	DuplicatesCapped bool
	// Types counts matched rows by result type (housenumber, street…).
	Types map[string]int64
	// RecordErrors counts records skipped for exceeding a cap
	// (Options.MaxRecordBytes, MaxFields): each gave an error row, with
	// empty input cells. They are counted in Errors too.
	RecordErrors int64
	// FirstRecordErrors lists the first MaxReportedRecordErrors of them,
	// in input order, for messages like "line 12345: record larger than
	// 64 KiB" (RecordError.Error).
	FirstRecordErrors []RecordError
	// Panics counts the internal errors recovered: rows that panicked
	// (error rows) and goroutines of the job (which end it with an error).
	Panics int64

	seen   map[uint64]struct{}
	scores [1001]int64 // histogram of matched scores, by thousandths
	min    float64
	max    float64
}

func newSummary(trackDuplicates bool) *Summary {
	s := &Summary{Types: map[string]int64{}, min: math.Inf(1), max: math.Inf(-1)}
	if trackDuplicates {
		s.seen = map[uint64]struct{}{}
	}
	return s
}

func (s *Summary) add(m *rowMeta) {
	s.Rows++
	switch m.status {
	case StatusOK:
		s.OK++
		s.Types[m.typ]++
		i := int(math.Round(m.score * 1000))
		s.scores[max(0, min(i, len(s.scores)-1))]++
		s.min = math.Min(s.min, m.score)
		s.max = math.Max(s.max, m.score)
	case StatusNotFound:
		s.NotFound++
	case StatusSkipped:
		s.Skipped++
	default:
		s.Errors++
	}
	if m.panicked {
		s.Panics++
	}
	if m.recordErr != nil {
		s.RecordErrors++
		if len(s.FirstRecordErrors) < MaxReportedRecordErrors {
			s.FirstRecordErrors = append(s.FirstRecordErrors, *m.recordErr)
		}
		return // its content is unknown: no duplicate key
	}
	if s.seen != nil && m.status != StatusSkipped {
		if _, dup := s.seen[m.key]; dup {
			s.Duplicates++
		} else if len(s.seen) < maxTrackedQueries {
			s.seen[m.key] = struct{}{}
		} else {
			s.DuplicatesCapped = true
		}
	}
}

// ScoreStats returns the minimum, quartiles and maximum of matched rows'
// scores (quartiles to the nearest thousandth); ok is false with no match.
func (s *Summary) ScoreStats() (minScore, q1, median, q3, maxScore float64, ok bool) {
	if s.OK == 0 {
		return 0, 0, 0, 0, 0, false
	}
	q := func(p float64) float64 {
		target := int64(math.Ceil(p * float64(s.OK)))
		target = max(target, 1)
		var acc int64
		for i, n := range s.scores {
			acc += n
			if acc >= target {
				return float64(i) / 1000
			}
		}
		return 1
	}
	clamp := func(x float64) float64 { return math.Max(s.min, math.Min(s.max, x)) } // bins are rounded
	return s.min, clamp(q(0.25)), clamp(q(0.5)), clamp(q(0.75)), s.max, true
}
