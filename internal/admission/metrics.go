package admission

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// waitBuckets are the classic buckets of the queue wait, in seconds: from
// 0.1 ms to the interactive deadlines, then up to the batch-job deadline.
var waitBuckets = []float64{.0001, .0005, .001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5}

// Descriptions of the series read from Stats at scrape time: the request
// path only updates the controller's own counters under its lock, never a
// Prometheus series (the wait histogram aside).
var (
	descInFlight = prometheus.NewDesc("balise_admission_in_flight",
		"Requests holding a slot, by class (interactive, batch_job).", []string{"class"}, nil)
	descLimit = prometheus.NewDesc("balise_admission_limit",
		"Effective concurrency limit, by class (interactive: adaptive; batch_job; batch_slot).", []string{"class"}, nil)
	descQueue = prometheus.NewDesc("balise_admission_queue_length",
		"Requests waiting for a slot, by class (interactive, batch_job, batch_slot).", []string{"class"}, nil)
	descSlotsInUse = prometheus.NewDesc("balise_admission_batch_slots_in_use",
		"Batch slots held by units of batch work, across all batch jobs.", nil, nil)
	descServiceTime = prometheus.NewDesc("balise_admission_service_time_seconds",
		"Moving average of the time a slot is held, by class (interactive, batch_job): the basis of the predicted wait.", []string{"class"}, nil)
	descOverloaded = prometheus.NewDesc("balise_admission_overloaded",
		"1 while newcomers of the class get the short queue deadline (its queue has not emptied for the overload interval, or did and refused requests since, less than that interval ago), else 0.", []string{"class"}, nil)
	descLoad = prometheus.NewDesc("balise_admission_load_cores",
		"Recent load in cores (averaged over 100 ms), by class: interactive (requests in flight) and batch (batch slots in use). Batch slots are granted only while their sum is below balise_admission_batch_target_load_cores.", []string{"class"}, nil)
	descTargetLoad = prometheus.NewDesc("balise_admission_batch_target_load_cores",
		"Load in cores up to which batch work fills the cores (Cores × BatchTargetLoad).", nil, nil)
	descDraining = prometheus.NewDesc("balise_admission_draining",
		"1 once the server drains (every new or queued request is refused), else 0.", nil, nil)
	descAdmitted = prometheus.NewDesc("balise_admission_admitted_total",
		"Requests given a slot, by class (interactive, batch_job, batch_slot).", []string{"class"}, nil)
	descRejections = prometheus.NewDesc("balise_admission_rejections_total",
		"Requests refused, by class (interactive, batch_job) and reason (queue_full, predicted_wait, queue_timeout, draining).", []string{"class", "reason"}, nil)
	descAbandoned = prometheus.NewDesc("balise_admission_abandoned_total",
		"Requests whose client left while they waited in the queue, by class (interactive, batch_job).", []string{"class"}, nil)
	descBudgetExhausted = prometheus.NewDesc("balise_admission_budget_exhausted_total",
		"Admitted interactive requests whose search ran out of its time budget.", nil, nil)
	descLimitChanges = prometheus.NewDesc("balise_admission_limit_changes_total",
		"Moves of the adaptive interactive limit, by direction (decrease, increase).", []string{"direction"}, nil)
	descRunQueueLatency = prometheus.NewDesc("balise_admission_run_queue_latency_seconds",
		"90th percentile of the time goroutines waited for a core over the last 10 ms measured (the Go scheduler's run queue), which the run-queue shedder holds near its target.", nil, nil)
	descShedProbability = prometheus.NewDesc("balise_admission_shed_probability",
		"Share of new interactive requests the run-queue shedder refuses (reason run_queue), 0 when the cores keep up.", nil, nil)
	descSlotsOverdue = prometheus.NewDesc("balise_admission_batch_slots_overdue_total",
		"Batch slots the starvation guard granted although batch work should have yielded to interactive traffic.", nil, nil)
)

// collector exports a controller's Stats.
type collector struct{ c *Controller }

func (col collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInFlight, descLimit, descQueue, descSlotsInUse, descServiceTime,
		descOverloaded, descLoad, descTargetLoad, descDraining, descAdmitted, descRejections, descAbandoned, descBudgetExhausted,
		descLimitChanges, descSlotsOverdue, descRunQueueLatency, descShedProbability} {
		ch <- d
	}
}

func (col collector) Collect(ch chan<- prometheus.Metric) {
	s := col.c.Stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, cs := range []struct {
		name string
		s    *ClassStats
	}{{ClassInteractive, &s.Interactive}, {ClassBatchJob, &s.BatchJobs}} {
		gauge(descInFlight, float64(cs.s.InFlight), cs.name)
		gauge(descLimit, float64(cs.s.Limit), cs.name)
		gauge(descQueue, float64(cs.s.Queued), cs.name)
		gauge(descServiceTime, cs.s.ServiceTime.Seconds(), cs.name)
		gauge(descOverloaded, boolValue(cs.s.Overloaded), cs.name)
		counter(descAdmitted, cs.s.Admitted, cs.name)
		counter(descAbandoned, cs.s.Abandoned, cs.name)
		for _, r := range reasons {
			counter(descRejections, cs.s.Rejected[r], cs.name, r)
		}
	}
	gauge(descLimit, float64(s.BatchSlots.Limit), ClassBatchSlot)
	gauge(descQueue, float64(s.BatchSlots.Waiting), ClassBatchSlot)
	counter(descAdmitted, s.BatchSlots.Granted, ClassBatchSlot)
	gauge(descSlotsInUse, float64(s.BatchSlots.InUse))
	counter(descSlotsOverdue, s.BatchSlots.GrantedOverdue)
	gauge(descLoad, s.Load.Interactive, "interactive")
	gauge(descLoad, s.Load.Batch, "batch")
	gauge(descTargetLoad, s.Load.Target)
	gauge(descDraining, boolValue(s.Draining))
	counter(descBudgetExhausted, s.BudgetExhausted)
	counter(descLimitChanges, s.LimitDecreases, "decrease")
	counter(descLimitChanges, s.LimitIncreases, "increase")
	gauge(descRunQueueLatency, s.RunQueue.Latency.Seconds())
	gauge(descShedProbability, s.RunQueue.ShedProbability)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// registerMetrics makes the wait histogram (always: the request path
// observes it unconditionally) and registers it with the collector on reg
// when reg is not nil.
func (c *Controller) registerMetrics(reg prometheus.Registerer) error {
	waits := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:                            "balise_admission_queue_wait_seconds",
		Help:                            "Time admitted requests waited for their slot (0 when one was free), by class (interactive, batch_job, batch_slot).",
		Buckets:                         waitBuckets,
		NativeHistogramBucketFactor:     1.1,
		NativeHistogramMaxBucketNumber:  160,
		NativeHistogramMinResetDuration: time.Hour,
	}, []string{"class"})
	c.waitInteractive = waits.WithLabelValues(ClassInteractive)
	c.waitJobs = waits.WithLabelValues(ClassBatchJob)
	c.waitSlots = waits.WithLabelValues(ClassBatchSlot)
	if reg == nil {
		return nil
	}
	for _, m := range []prometheus.Collector{collector{c}, waits} {
		if err := reg.Register(m); err != nil {
			return fmt.Errorf("cannot register admission metrics: %w", err)
		}
	}
	return nil
}
