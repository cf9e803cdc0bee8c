package admission

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gathered returns the value of every series of reg, keyed by name and
// labels ("name{label=value,...}"), histograms by their sample count.
func gathered(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			if len(m.GetLabel()) > 0 {
				key += "{"
				for i, l := range m.GetLabel() {
					if i > 0 {
						key += ","
					}
					key += l.GetName() + "=" + l.GetValue()
				}
				key += "}"
			}
			out[key] = value(f.GetType(), m)
		}
	}
	return out
}

func value(typ dto.MetricType, m *dto.Metric) float64 {
	switch typ {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	case dto.MetricType_HISTOGRAM:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return -1
}

// The series follow the controller's state: slots, queue, refusals,
// budgets, batch slots, the queue-wait histogram.
func TestMetrics(t *testing.T) {
	checkGoroutines(t)
	reg := prometheus.NewRegistry()
	c, err := New(Config{NoRunQueueShedding: true, Cores: 2, InteractiveLimit: 1, InteractiveQueue: 1, QueueTimeout: time.Minute,
		OverloadQueueTimeout: time.Minute, BatchSlots: 1}, reg)
	if err != nil {
		t.Fatal(err)
	}
	release := mustAcquire(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	queued := acquireAsync(ctx, c.AcquireInteractive)
	waitUntil(t, "a request queues", func() bool { return c.Stats().Interactive.Queued == 1 })
	_, err = c.AcquireInteractive(context.Background())
	rejection(t, err, ReasonQueueFull)
	c.ObserveOutcome(time.Millisecond, true)

	got := gathered(t, reg)
	for key, want := range map[string]float64{
		"balise_admission_in_flight{class=interactive}":                            1,
		"balise_admission_limit{class=interactive}":                                1,
		"balise_admission_limit{class=batch_job}":                                  4,
		"balise_admission_limit{class=batch_slot}":                                 1,
		"balise_admission_queue_length{class=interactive}":                         1,
		"balise_admission_queue_length{class=batch_slot}":                          0,
		"balise_admission_rejections_total{class=interactive,reason=queue_full}":   1,
		"balise_admission_rejections_total{class=interactive,reason=draining}":     0,
		"balise_admission_rejections_total{class=batch_job,reason=predicted_wait}": 0,
		"balise_admission_admitted_total{class=interactive}":                       1,
		"balise_admission_budget_exhausted_total":                                  1,
		"balise_admission_limit_changes_total{direction=decrease}":                 0, // at the floor already
		"balise_admission_batch_slots_in_use":                                      0,
		"balise_admission_draining":                                                0,
		"balise_admission_overloaded{class=interactive}":                           0,
		"balise_admission_batch_target_load_cores":                                 1,
		"balise_admission_queue_wait_seconds{class=interactive}":                   1,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", key, v, ok, want)
		}
	}
	cancel()
	receive(t, queued)
	release()
	slot, err := c.AcquireBatchSlot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got = gathered(t, reg)
	if got["balise_admission_batch_slots_in_use"] != 1 || got["balise_admission_abandoned_total{class=interactive}"] != 1 ||
		got["balise_admission_admitted_total{class=batch_slot}"] != 1 || got["balise_admission_queue_wait_seconds{class=batch_slot}"] != 1 {
		t.Errorf("after a batch slot and an abandoned wait: %v", got)
	}
	slot()
	if _, err := New(Config{}, reg); err == nil {
		t.Fatal("a second controller registered on the same registry")
	}
}

// Stats marshals to the JSON a dashboard reads.
func TestStatsJSON(t *testing.T) {
	c := newTestController(t, Config{Cores: 2})
	b, err := json.Marshal(c.Stats())
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	interactive, _ := back["interactive"].(map[string]any)
	if interactive["limit"] != 4.0 || interactive["queue_timeout_ns"] != float64(20*time.Millisecond) {
		t.Fatalf("JSON %s", b)
	}
	if _, ok := back["load"].(map[string]any)["target"]; !ok {
		t.Fatalf("JSON %s", b)
	}
}
