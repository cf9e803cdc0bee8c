package k8s

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite base/prometheusrule.yaml from deploy/monitoring/balise-rules.yml")

const (
	rulesSource    = "../monitoring/balise-rules.yml"
	prometheusRule = "base/prometheusrule.yaml"
)

// rulesFromMonitoring reads deploy/monitoring's rule file (the one promtool
// checks and tests) as a PrometheusRule spec, strictly.
func rulesFromMonitoring(t *testing.T) monitoringv1.PrometheusRuleSpec {
	t.Helper()
	b, err := os.ReadFile(rulesSource)
	if err != nil {
		t.Fatal(err)
	}
	var spec monitoringv1.PrometheusRuleSpec
	if err := yaml.UnmarshalStrict(b, &spec); err != nil {
		t.Fatalf("%s: %v", rulesSource, err)
	}
	if len(spec.Groups) == 0 {
		t.Fatalf("%s has no rule groups", rulesSource)
	}
	return spec
}

// TestPrometheusRuleIsGenerated keeps the PrometheusRule object equal to
// deploy/monitoring/balise-rules.yml: the alerts are written once.
func TestPrometheusRuleIsGenerated(t *testing.T) {
	spec := rulesFromMonitoring(t)
	if *update {
		rule := monitoringv1.PrometheusRule{
			TypeMeta:   metav1.TypeMeta{APIVersion: "monitoring.coreos.com/v1", Kind: "PrometheusRule"},
			ObjectMeta: metav1.ObjectMeta{Name: "balise"},
			Spec:       spec,
		}
		b, err := yaml.Marshal(rule)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.Replace(b, []byte("  creationTimestamp: null\n"), nil, 1)
		header := "# Generated from deploy/monitoring/balise-rules.yml: do not edit, edit that file and run\n" +
			"#   cd deploy/k8s && go test -run TestPrometheusRuleIsGenerated -update\n"
		if err := os.WriteFile(prometheusRule, append([]byte(header), b...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range overlays {
		got := one[*monitoringv1.PrometheusRule](t, mustBuild(t, dir), "balise")
		if !reflect.DeepEqual(got.Spec, spec) {
			t.Errorf("%s: the PrometheusRule differs from %s; run go test -run TestPrometheusRuleIsGenerated -update", dir, rulesSource)
		}
	}
}

// adapterConfig is the part of the Prometheus Adapter's configuration file
// the rule uses (its schema: github.com/kubernetes-sigs/prometheus-adapter,
// docs/config.md), decoded strictly.
type adapterConfig struct {
	Rules []struct {
		SeriesQuery string `json:"seriesQuery"`
		Resources   struct {
			Overrides map[string]struct {
				Resource string `json:"resource"`
			} `json:"overrides"`
		} `json:"resources"`
		Name struct {
			Matches string `json:"matches"`
			As      string `json:"as"`
		} `json:"name"`
		MetricsQuery string `json:"metricsQuery"`
	} `json:"rules"`
}

// TestAdapterRuleFeedsTheAutoscaler checks that the Pods metric the
// autoscaler targets is the one the adapter rule names, computed from a
// counter balise exports, per pod.
func TestAdapterRuleFeedsTheAutoscaler(t *testing.T) {
	b, err := os.ReadFile("prometheus-adapter/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg adapterConfig
	if err := yaml.UnmarshalStrict(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rules) != 1 {
		t.Fatalf("%d adapter rules, want 1", len(cfg.Rules))
	}
	r := cfg.Rules[0]
	const counter = "balise_http_requests_total"
	if !strings.HasPrefix(r.SeriesQuery, counter+"{") || !strings.Contains(r.MetricsQuery, "rate(<<.Series>>") {
		t.Errorf("the rule must rate %s: %+v", counter, r)
	}
	if r.Resources.Overrides["pod"].Resource != "pod" || r.Resources.Overrides["namespace"].Resource != "namespace" {
		t.Errorf("the rule must map the pod and namespace labels: %+v", r.Resources)
	}
	if !exportedMetric(t, counter) {
		t.Errorf("balise exports no %s", counter)
	}
	for _, dir := range overlays {
		hpa := one[*autoscalingv2.HorizontalPodAutoscaler](t, mustBuild(t, dir), "balise")
		found := false
		for _, m := range hpa.Spec.Metrics {
			if m.Type == autoscalingv2.PodsMetricSourceType && m.Pods.Metric.Name == r.Name.As {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: the autoscaler does not target %s", dir, r.Name.As)
		}
	}
}

// exportedMetric reports whether balise's telemetry package registers name
// (the _total suffix is the counter's, added by the client library).
func exportedMetric(t *testing.T, name string) bool {
	t.Helper()
	entries, err := os.ReadDir("../../internal/telemetry")
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(strings.TrimPrefix(name, "balise_"), "_total")
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "_test.go") || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		b, err := os.ReadFile("../../internal/telemetry/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(`"`+base+`"`)) || bytes.Contains(b, []byte(`"`+name+`"`)) {
			return true
		}
	}
	return false
}
