package admission

import (
	"fmt"
	"time"
)

// Classes of work, as they appear in Rejection.Class and in the class
// label of the metrics.
const (
	ClassInteractive = "interactive" // GET /search, /reverse, /get/{id}
	ClassBatchJob    = "batch_job"   // a CSV file or a POST /batch request
	ClassBatchSlot   = "batch_slot"  // a unit of batch work (metrics only: slots are never refused)
)

// Reasons a request is refused, as they appear in Rejection.Reason and in
// the reason label of balise_admission_rejections_total.
const (
	// ReasonQueueFull: every slot is busy and the queue is at its bound.
	ReasonQueueFull = "queue_full"
	// ReasonPredictedWait: the wait predicted from the queue ahead and the
	// recent service time exceeds the queue deadline, so the request is
	// refused at once rather than after waiting that deadline out.
	ReasonPredictedWait = "predicted_wait"
	// ReasonQueueTimeout: the request waited its whole queue deadline.
	ReasonQueueTimeout = "queue_timeout"
	// ReasonDraining: the server is shutting down.
	ReasonDraining = "draining"
	// ReasonRunQueue: the cores are saturated, goroutines wait in the Go
	// scheduler's run queue beyond the target, and the run-queue shedder
	// refused this arrival (runqueue.go).
	ReasonRunQueue = "run_queue"
)

var reasons = []string{ReasonQueueFull, ReasonPredictedWait, ReasonQueueTimeout, ReasonDraining, ReasonRunQueue}

// Bounds of the Retry-After estimate. A draining server is going away: the
// client should come back soon, to another replica or to the restarted one.
const (
	drainRetryAfter = time.Second
	// runQueueRetryAfter: a saturated server sheds a share of arrivals;
	// a second later the flood may be over.
	runQueueRetryAfter = time.Second
	maxRetryAfter      = time.Minute
)

// Rejection is the error of a refused request. Answer it with 503 Service
// Unavailable and a Retry-After header of RetryAfterSeconds.
type Rejection struct {
	// Class is ClassInteractive or ClassBatchJob.
	Class string
	// Reason is one of the Reason constants.
	Reason string
	// RetryAfter estimates when a slot should be free again: the time the
	// work queued now needs to drain (at most a minute).
	RetryAfter time.Duration
}

// Error says what was refused and why; it carries nothing of the request.
func (r *Rejection) Error() string {
	return fmt.Sprintf("admission: %s request refused (%s), retry after %s",
		r.Class, r.Reason, r.RetryAfter.Round(time.Millisecond))
}

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, at least 1:
// the value of the Retry-After header, which counts in seconds.
func (r *Rejection) RetryAfterSeconds() int {
	s := int((r.RetryAfter + time.Second - 1) / time.Second)
	return max(1, s)
}
