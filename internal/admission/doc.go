// Package admission keeps balise responsive under overload: it bounds the
// work served at once, queues briefly, refuses early, and keeps batch work
// (CSV files, POST /batch) from crowding out interactive requests.
//
// Every balise request is CPU-bound: a search, a reverse lookup or a get
// costs 20–200 µs of CPU, a CSV row 25–60 µs. Running more of them at once
// than there are cores only time-slices the cores: each request takes
// longer, none finishes sooner, and without a bound an overloaded server
// queues without limit (seconds of latency) instead of refusing. A refusal
// answered within a millisecond, with a Retry-After, is better for
// everybody: the client retries elsewhere or later, and the admitted
// requests keep their latency.
//
// # The model
//
// Three bounds, one lock:
//
//   - Interactive requests (GET /search, /reverse, /get/{id}) take one of
//     L slots ([Controller.AcquireInteractive]). When every slot is busy a
//     request waits in a FIFO queue of bounded length, for at most the
//     queue deadline.
//   - Batch jobs (one CSV file, one POST /batch request) take one of J job
//     slots ([Controller.AcquireBatchJob]), with their own short queue and
//     deadline. That bounds the memory and connections jobs hold.
//   - Units of batch work (a chunk of rows, one /batch item) take one of B
//     batch slots ([Controller.AcquireBatchSlot]) shared by all jobs. That
//     bounds the cores batch work uses, however many jobs run.
//
// A refused request gets a [*Rejection] with a reason and a Retry-After;
// answer it with 503 Service Unavailable and the header Retry-After:
// [Rejection.RetryAfterSeconds]. A request whose context ends while it
// waits gets the context's error instead: its client has gone.
//
// # Refusing at arrival
//
// A request that would wait past its deadline is refused when it arrives,
// not after waiting the deadline out: the controller keeps a moving
// average S of the time a slot is held (from admission to release) and
// predicts a newcomer's wait as (queued + 1) × S / L. When that exceeds
// three quarters of the deadline, the answer is [ReasonPredictedWait] at
// once (the last quarter is slack for the prediction's error); a full
// queue gives [ReasonQueueFull]. Only the requests the prediction let in
// and that still wait their whole deadline get [ReasonQueueTimeout], after
// waiting. Waiting never spins (the waiter blocks on a channel), and a
// waiter whose context ends leaves the queue at once.
//
// # FIFO, with a shorter deadline under sustained overload
//
// The queue is FIFO, and its deadline shrinks from QueueTimeout (20 ms) to
// OverloadQueueTimeout (5 ms) once the queue has not been empty for
// OverloadAfter (100 ms). It grows back once the queue has emptied and
// OverloadAfter has passed without a refusal: without that hysteresis the
// short queue of an overload empties in the gaps of a bursty load, and the
// deadline would flap. A queue that absorbs a burst empties quickly; one
// that never empties is a standing queue that adds latency to every
// admitted request and serves nobody (the CoDel observation).
//
// Adaptive LIFO, the other known remedy, serves the newest requests first
// and lets the oldest time out; but those time-outs are refusals that took
// the whole deadline, and a newcomer's wait can no longer be predicted
// from the queue ahead of it. FIFO with a predicted wait and an adaptive
// deadline keeps both properties: under a sustained overload admitted
// requests wait at most ~4 ms, and the others are refused in microseconds.
//
// # The adaptive limit
//
// A search that exhausts its time budget (50 ms) on a loaded server is the
// sign that the cores are oversubscribed: L requests sharing P cores each
// run L/P times slower than alone. The handler reports every admitted
// request's outcome with [Controller.ObserveOutcome], and L adapts by AIMD
// between InteractiveMinLimit and InteractiveLimit:
//
//   - a budget exhausted while requests are queued or every slot is busy
//     takes a tenth off L (at least one slot), once per generation: only a
//     request admitted after the previous decrease can decrease it again,
//     so one burst of slow answers counts once;
//   - L grows by one slot per IncreaseInterval (100 ms) that passed without
//     such a sign.
//
// A budget exhausted on a server with free slots is a pathological query,
// not overload: it is counted but moves nothing. The floor is the number
// of cores: below it a CPU-bound server would leave cores idle. With the
// defaults on 2 cores L moves between 2 and 4: down one step per
// generation (a generation lasts at least the 50 ms budget) and back up in
// 200 ms.
//
// # The queue the slots cannot see
//
// The slots bound only the requests that reached the controller. On a
// saturated server the connections' goroutines also wait in the Go
// scheduler's run queue, request received, before they run far enough to
// ask for a slot: the slots look free while every answer is late
// (measured on one core at twice its capacity: no refusal, p50 8.7 s).
// The run-queue shedder (runqueue.go) reads the runtime's own measure of
// that wait, /sched/latencies:seconds, every 10 ms, and refuses new
// interactive requests with a probability that grows while its 90th
// percentile stays above RunQueueTarget (2 ms) and decays within ~50 ms
// once it falls below half of it, in the manner of PIE (RFC 8033). The
// refusal is [ReasonRunQueue], before any slot is taken, and costs a few
// microseconds. Batch jobs are never refused by it: they yield through
// the batch slots. Turn it off with NoRunQueueShedding.
//
// # Batch yields to interactive
//
// A batch slot is granted only when
//
//   - no interactive request waits in the queue,
//   - a core is idle now: interactive requests in flight plus batch slots
//     in use are below Cores, and
//   - the recent load is below BatchTargetLoad (half) of the cores: the
//     interactive requests in flight plus the batch slots in use, each
//     averaged over time (100 ms).
//
// The first two rules alone are not enough: an interactive load of one
// core in two leaves a core idle half of the time, batch work takes it
// every time, and the interactive requests are left with one core at
// 100 %. The target load leaves headroom for their bursts. Batch work
// thus runs on the cores interactive traffic does not need, and backs off
// within a tenth of a second when it needs them.
//
// So that batch work never starves, a starvation guard: once the unit at
// the head of the queue has waited BatchMaxDelay (50 ms) and no batch slot
// has been granted for as long, it takes the next free slot whatever the
// interactive load. Under a saturating interactive load batch work still
// progresses by one unit per BatchMaxDelay.
//
// A unit that has started is not interrupted (Go has no goroutine
// priorities), so keep units short: 8–32 CSV rows (0.4–1.5 ms of CPU), one
// /batch item. [Controller.AcquireBatchSlot] costs ~0.2 µs, nothing next to
// a unit. It never refuses: a batch job once admitted is not refused half
// way through its file; it only slows down. Drain does not stop batch
// slots either: the running jobs finish within the shutdown's grace period.
//
// # Defaults and how to size them
//
// Cores is GOMAXPROCS (which the Go runtime derives from the container's
// CPU quota); everything else follows from it.
//
//   - InteractiveLimit 2×Cores: CPU-bound work gains nothing beyond the
//     cores, but requests also wait off-CPU (an L2 cache round trip, a
//     write to a slow client, a GC assist), and one extra request per
//     core keeps the cores busy through those gaps. More only adds
//     latency; with a slow Redis L2, 3–4× may pay.
//   - InteractiveMinLimit Cores, the AIMD floor (see above). Set it to
//     InteractiveLimit for a fixed limit.
//   - InteractiveQueue 128×Cores: a bound on memory (a waiting request
//     holds its goroutine and connection) rather than on latency, which
//     the prediction bounds: 15 ms of 100 µs requests over 4 slots is
//     ~600 requests, of 20 µs cache hits far more.
//   - QueueTimeout 20 ms: the latency objective is p95 < 50 ms; 20 ms of
//     queueing leaves 30 ms for the search itself, whose worst cases the
//     50 ms time budget cuts. OverloadQueueTimeout 5 ms, OverloadAfter
//     100 ms: see FIFO above.
//   - BatchJobs max(4, Cores), BatchJobQueue = BatchJobs,
//     BatchJobQueueTimeout 2 s: more concurrent jobs only split the same
//     batch slots further and hold more uploads open; a client refused
//     with Retry-After comes back when one has finished.
//   - BatchSlots max(1, Cores/2), BatchTargetLoad 0.5: batch work never
//     takes more than half the cores, and only the load interactive
//     traffic leaves under half of them. On a replica dedicated to batch
//     work raise both (BatchSlots = Cores, BatchTargetLoad 1).
//   - BatchMaxDelay 50 ms: the starvation guard; lower it to favour batch
//     throughput over interactive latency.
//
// Signs that the sizing is wrong: rejections (balise_admission_rejections_total)
// while the CPU is well below saturation mean L is too low for how long
// requests stay off-CPU; an interactive p99 over 50 ms with the limit at
// its maximum and no rejections means L is too high; batch work granted
// mostly by the guard (balise_admission_batch_slots_overdue_total close to
// the batch_slot count of balise_admission_admitted_total) means the
// replica has no room for batch work: add replicas, or a batch-only one.
//
// # Metrics and Stats
//
// The series (balise_admission_*) are read from the controller's own
// counters at scrape time: the request path touches one lock and, for
// the queue-wait histogram, makes one observation. [Controller.Stats]
// returns the same figures as a snapshot for a JSON dashboard or for
// readiness. Readiness should fail on Stats.Draining only: failing it on
// overload would move the whole load onto the other replicas at once.
package admission
