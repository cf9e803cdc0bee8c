package k8s

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	vpav1 "k8s.io/autoscaler/vertical-pod-autoscaler/pkg/apis/autoscaling.k8s.io/v1"
)

// selects reports whether sel selects a set of labels.
func selects(t *testing.T, sel *metav1.LabelSelector, set map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatal(err)
	}
	return !s.Empty() && s.Matches(labels.Set(set))
}

// podTemplates returns every workload's pod template, by workload.
func podTemplates(o *objects) map[string]corev1.PodTemplateSpec {
	out := map[string]corev1.PodTemplateSpec{}
	for _, d := range all[*appsv1.Deployment](o) {
		out["Deployment/"+d.Name] = d.Spec.Template
	}
	for _, s := range all[*appsv1.StatefulSet](o) {
		out["StatefulSet/"+s.Name] = s.Spec.Template
	}
	for _, j := range all[*batchv1.Job](o) {
		out["Job/"+j.Name] = j.Spec.Template
	}
	return out
}

// TestRestrictedSecurityContext holds every pod of every overlay to the
// restricted Pod Security Standard the brief names.
func TestRestrictedSecurityContext(t *testing.T) {
	for _, dir := range overlays {
		o := mustBuild(t, dir)
		namespaces := all[*corev1.Namespace](o)
		if len(namespaces) != 1 || namespaces[0].Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Errorf("%s: one Namespace, enforcing the restricted Pod Security Standard", dir)
		}
		for name, tpl := range podTemplates(o) {
			p := tpl.Spec
			sc := p.SecurityContext
			if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
				t.Errorf("%s %s: the pod must run as a non-root user", dir, name)
			}
			if sc == nil || sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("%s %s: seccomp must be RuntimeDefault", dir, name)
			}
			if p.AutomountServiceAccountToken == nil || *p.AutomountServiceAccountToken {
				t.Errorf("%s %s: no pod needs a service account token", dir, name)
			}
			for _, c := range slices.Concat(p.InitContainers, p.Containers) {
				csc := c.SecurityContext
				switch {
				case csc == nil:
					t.Errorf("%s %s/%s: no securityContext", dir, name, c.Name)
				case csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation:
					t.Errorf("%s %s/%s: allowPrivilegeEscalation must be false", dir, name, c.Name)
				case csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem:
					t.Errorf("%s %s/%s: readOnlyRootFilesystem must be true", dir, name, c.Name)
				case csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(csc.Capabilities.Add) > 0:
					t.Errorf("%s %s/%s: capabilities must drop ALL and add none", dir, name, c.Name)
				}
				if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
					t.Errorf("%s %s/%s: memory request and limit required", dir, name, c.Name)
				}
				if dir == "overlays/prod" && !regexp.MustCompile(`^[a-z0-9.-]+(:[0-9]+)?/.+(:[\w.-]+|@sha256:[0-9a-f]{64})$`).MatchString(c.Image) {
					t.Errorf("%s %s/%s: image %q must name a registry and a tag or digest (kustomize images:)", dir, name, c.Name, c.Image)
				}
			}
		}
	}
}

// TestObjectsReferToEachOther checks every selector and reference: the
// Service, budget, policy and monitor select the pods or Service they are
// for, the autoscalers name the Deployment, named ports exist.
func TestObjectsReferToEachOther(t *testing.T) {
	for _, dir := range overlays {
		o := mustBuild(t, dir)
		for _, d := range all[*appsv1.Deployment](o) {
			if !selects(t, d.Spec.Selector, d.Spec.Template.Labels) {
				t.Errorf("%s: Deployment %s does not select its pods", dir, d.Name)
			}
		}
		for _, s := range all[*appsv1.StatefulSet](o) {
			if !selects(t, s.Spec.Selector, s.Spec.Template.Labels) {
				t.Errorf("%s: StatefulSet %s does not select its pods", dir, s.Name)
			}
		}
		d := one[*appsv1.Deployment](t, o, "balise")
		pods := d.Spec.Template.Labels
		svc := one[*corev1.Service](t, o, "balise")
		if !selects(t, &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, pods) {
			t.Errorf("%s: the Service does not select balise's pods", dir)
		}
		for _, p := range svc.Spec.Ports {
			if !hasPort(d.Spec.Template.Spec.Containers[0], p.TargetPort) {
				t.Errorf("%s: Service port %s targets %s, which the container does not expose", dir, p.Name, p.TargetPort.String())
			}
		}
		for _, pdb := range all[*policyv1.PodDisruptionBudget](o) {
			if pdb.Name == "balise" && !selects(t, pdb.Spec.Selector, pods) {
				t.Errorf("%s: the PodDisruptionBudget does not select balise's pods", dir)
			}
		}
		for _, np := range all[*networkingv1.NetworkPolicy](o) {
			if strings.HasPrefix(np.Name, "balise") && !selects(t, &np.Spec.PodSelector, pods) {
				t.Errorf("%s: NetworkPolicy %s does not select balise's pods", dir, np.Name)
			}
		}
		sm := one[*monitoringv1.ServiceMonitor](t, o, "balise")
		if !selects(t, &sm.Spec.Selector, svc.Labels) {
			t.Errorf("%s: the ServiceMonitor does not select the Service", dir)
		}
		for _, ep := range sm.Spec.Endpoints {
			if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }) {
				t.Errorf("%s: the ServiceMonitor scrapes port %q, which the Service lacks", dir, ep.Port)
			}
		}
		hpa := one[*autoscalingv2.HorizontalPodAutoscaler](t, o, "balise")
		vpa := one[*vpav1.VerticalPodAutoscaler](t, o, "balise")
		if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != d.Name ||
			vpa.Spec.TargetRef == nil || vpa.Spec.TargetRef.Kind != "Deployment" || vpa.Spec.TargetRef.Name != d.Name {
			t.Errorf("%s: the autoscalers must target Deployment %s", dir, d.Name)
		}
		for _, cp := range vpa.Spec.ResourcePolicy.ContainerPolicies {
			if !slices.ContainsFunc(d.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == cp.ContainerName }) {
				t.Errorf("%s: the VPA has a policy for container %q, which the pod lacks", dir, cp.ContainerName)
			}
		}
		checkConfigMapRefs(t, o, d)
	}
}

func hasPort(c corev1.Container, target intstr.IntOrString) bool {
	return slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool {
		return (target.Type == intstr.String && p.Name == target.StrVal) || (target.Type == intstr.Int && p.ContainerPort == target.IntVal)
	})
}

// checkConfigMapRefs checks that the ConfigMaps the pods read exist (with
// kustomize's hash suffix, which is what rolls the pods on a change).
func checkConfigMapRefs(t *testing.T, o *objects, d *appsv1.Deployment) {
	t.Helper()
	names := map[string]bool{}
	for _, cm := range all[*corev1.ConfigMap](o) {
		names[cm.Name] = true
	}
	for _, c := range slices.Concat(d.Spec.Template.Spec.InitContainers, d.Spec.Template.Spec.Containers) {
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil && !names[e.ConfigMapRef.Name] {
				t.Errorf("%s: container %s reads ConfigMap %s, which is not built", o.dir, c.Name, e.ConfigMapRef.Name)
			}
		}
	}
}

// serveFlags returns the flags of balise serve, from the binary's own usage.
func serveFlags(t *testing.T) map[string]bool {
	t.Helper()
	cmd := exec.Command("go", "run", "./cmd/balise", "serve", "-h")
	cmd.Dir = "../.."
	out, _ := cmd.CombinedOutput() // -h exits 0 or 2 depending on the flag package
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if len(flags) < 30 || !flags["index"] || !flags["shutdown-delay"] {
		t.Fatalf("could not read balise serve's flags (%d): %s", len(flags), out)
	}
	return flags
}

// serveArgs parses the balise container's --flag=value arguments.
func serveArgs(t *testing.T, c corev1.Container) map[string]string {
	t.Helper()
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Fatalf("the balise container must run serve: %v", c.Args)
	}
	args := map[string]string{}
	for _, a := range c.Args[1:] {
		name, value, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || args[name] != "" {
			t.Errorf("argument %q: want one --flag=value per flag", a)
		}
		args[name] = value
	}
	return args
}

// TestServerConfiguration checks the balise container against balise:
// every flag and BALISE_ variable exists, the probes are on balise's
// health routes, the grace period covers the drain.
func TestServerConfiguration(t *testing.T) {
	flags := serveFlags(t)
	for _, dir := range overlays {
		o := mustBuild(t, dir)
		d := one[*appsv1.Deployment](t, o, "balise")
		pod := d.Spec.Template.Spec
		c := pod.Containers[0]
		args := serveArgs(t, c)
		for name := range args {
			if !flags[name] {
				t.Errorf("%s: balise serve has no flag --%s", dir, name)
			}
		}
		for _, e := range c.Env {
			if name, ok := strings.CutPrefix(e.Name, "BALISE_"); ok {
				flag := strings.ToLower(strings.ReplaceAll(strings.TrimSuffix(name, "_FILE"), "_", "-"))
				if !flags[flag] {
					t.Errorf("%s: %s names no flag of balise serve", dir, e.Name)
				}
			}
		}
		checkProbes(t, dir, c)
		delay := mustDuration(t, args["shutdown-delay"])
		timeout := mustDuration(t, args["shutdown-timeout"])
		grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
		if delay < 5*time.Second || grace < delay+timeout+5*time.Second {
			t.Errorf("%s: grace period %s must cover --shutdown-delay %s (≥ 5 s, for the endpoints to be updated) + --shutdown-timeout %s + 5 s",
				dir, grace, delay, timeout)
		}
		ru := d.Spec.Strategy.RollingUpdate
		if ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
			t.Errorf("%s: a rollout must never take a replica away before its successor is ready (maxUnavailable 0)", dir)
		}
		if len(pod.TopologySpreadConstraints) == 0 {
			t.Errorf("%s: replicas must be spread over nodes", dir)
		}
	}
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("duration %q: %v", s, err)
	}
	return d
}

func checkProbes(t *testing.T, dir string, c corev1.Container) {
	t.Helper()
	for _, p := range []struct {
		kind  string
		probe *corev1.Probe
		path  string
	}{{"startup", c.StartupProbe, "/health"}, {"liveness", c.LivenessProbe, "/health"}, {"readiness", c.ReadinessProbe, "/health/ready"}} {
		switch {
		case p.probe == nil || p.probe.HTTPGet == nil:
			t.Errorf("%s: no HTTP %s probe", dir, p.kind)
		case p.probe.HTTPGet.Path != p.path || !hasPort(c, p.probe.HTTPGet.Port) || p.probe.HTTPGet.Port.StrVal != "http":
			t.Errorf("%s: the %s probe must GET %s on the public port, not %s on %s", dir, p.kind, p.path, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String())
		}
	}
}

// TestProductionSizing ties the prod overlay to docs/capacity.md: 4 GB per
// replica, the request-rate target at half of 2,500 mixed requests per
// CPU-second, a disruption budget that still lets a node drain.
func TestProductionSizing(t *testing.T) {
	capacity, err := os.ReadFile("../../docs/capacity.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, figure := range []string{"**4 GB per replica**", "**2,500** mixed requests per CPU-second", "0.5 utilisation"} {
		if !strings.Contains(string(capacity), figure) {
			t.Fatalf("docs/capacity.md no longer says %q: resize deploy/k8s", figure)
		}
	}
	o := mustBuild(t, "overlays/prod")
	d := one[*appsv1.Deployment](t, o, "balise")
	res := d.Spec.Template.Spec.Containers[0].Resources
	if res.Requests.Memory().Value() != 4<<30 || res.Limits.Memory().Value() != 4<<30 {
		t.Errorf("memory request and limit must be 4 GiB (docs/capacity.md), got %s / %s", res.Requests.Memory(), res.Limits.Memory())
	}
	if !res.Limits.Cpu().IsZero() {
		t.Errorf("no CPU limit: throttling costs the p99, and GOMAXPROCS follows the request")
	}
	cores := res.Requests.Cpu().AsApproximateFloat64()
	hpa := one[*autoscalingv2.HorizontalPodAutoscaler](t, o, "balise")
	var cpuTarget, rateTarget float64
	for _, m := range hpa.Spec.Metrics {
		switch {
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource.Name == corev1.ResourceCPU:
			cpuTarget = float64(*m.Resource.Target.AverageUtilization) / 100
		case m.Type == autoscalingv2.PodsMetricSourceType:
			rateTarget = m.Pods.Target.AverageValue.AsApproximateFloat64()
		}
	}
	if cpuTarget != 0.5 || rateTarget != 2500*cores*0.5 {
		t.Errorf("autoscaling targets: CPU %.2f (want 0.5), requests/s per pod %.0f (want 2,500 × %.0f cores × 0.5)", cpuTarget, rateTarget, cores)
	}
	pdb := one[*policyv1.PodDisruptionBudget](t, o, "balise")
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.String() != "75%" {
		t.Fatalf("the PodDisruptionBudget must keep 75 %% available, got %v", pdb.Spec.MinAvailable)
	}
	minReplicas := int(*hpa.Spec.MinReplicas)
	if evictable := minReplicas - int(math.Ceil(0.75*float64(minReplicas))); evictable < 1 {
		t.Errorf("at %d replicas a 75 %% budget allows %d evictions: node drains would hang", minReplicas, evictable)
	}
	vpa := one[*vpav1.VerticalPodAutoscaler](t, o, "balise")
	if vpa.Spec.UpdatePolicy == nil || vpa.Spec.UpdatePolicy.UpdateMode == nil || *vpa.Spec.UpdatePolicy.UpdateMode != vpav1.UpdateModeOff {
		t.Errorf("the VPA must only recommend (updateMode Off): it would fight the HPA over CPU")
	}
	checkIndexSource(t, o)
}

// checkIndexSource checks the index ConfigMap the init container reads.
func checkIndexSource(t *testing.T, o *objects) {
	t.Helper()
	var found bool
	for _, cm := range all[*corev1.ConfigMap](o) {
		if !strings.HasPrefix(cm.Name, "balise-index-") {
			continue
		}
		found = true
		if !strings.HasPrefix(cm.Data["INDEX_URL"], "https://") {
			t.Errorf("the index must be fetched over HTTPS: %q", cm.Data["INDEX_URL"])
		}
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(cm.Data["INDEX_SHA256"]) {
			t.Errorf("INDEX_SHA256 must be a SHA-256 in hex: %q", cm.Data["INDEX_SHA256"])
		}
	}
	if !found {
		t.Error("no balise-index ConfigMap (with its hash suffix)")
	}
}

// TestNetworkPolicy checks the traffic the policies allow: in, the gateway
// namespace on the public port and monitoring on the admin port; out,
// Redis and DNS, plus HTTPS to one address range for the index download.
func TestNetworkPolicy(t *testing.T) {
	for _, dir := range overlays {
		o := mustBuild(t, dir)
		np := one[*networkingv1.NetworkPolicy](t, o, "balise")
		if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
			t.Errorf("%s: the policy must govern both directions", dir)
		}
		var in []string
		for _, r := range np.Spec.Ingress {
			for _, from := range r.From {
				for _, p := range r.Ports {
					in = append(in, fmt.Sprintf("%s:%s", from.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"], p.Port.String()))
				}
			}
		}
		if !slices.Equal(in, []string{"gateway:http", "monitoring:admin"}) {
			t.Errorf("%s: ingress %v, want gateway:http and monitoring:admin only", dir, in)
		}
		var out []string
		for _, r := range np.Spec.Egress {
			for _, p := range r.Ports {
				out = append(out, p.Port.String())
			}
		}
		if !slices.Equal(out, []string{"6379", "53", "53"}) {
			t.Errorf("%s: egress ports %v, want Redis (6379) and DNS (53) only", dir, out)
		}
		for _, ss := range all[*appsv1.StatefulSet](o) {
			if ss.Name == "redis-cluster" && !selects(t, np.Spec.Egress[0].To[0].PodSelector, ss.Spec.Template.Labels) {
				t.Errorf("%s: the egress rule for Redis does not select the Redis pods", dir)
			}
		}
		for _, fetch := range all[*networkingv1.NetworkPolicy](o) {
			if fetch.Name != "balise-index-fetch" {
				continue
			}
			if len(fetch.Spec.Ingress) > 0 || len(fetch.Spec.Egress) != 1 || fetch.Spec.Egress[0].To[0].IPBlock == nil ||
				len(fetch.Spec.Egress[0].Ports) != 1 || fetch.Spec.Egress[0].Ports[0].Port.IntValue() != 443 {
				t.Errorf("%s: balise-index-fetch must allow HTTPS to one address range, nothing else", dir)
			}
		}
	}
}

// TestRedisCluster checks the prod overlay's Redis: a six-node Cluster
// (three primaries with a replica each), the nodes spread, one at a time in
// disruptions, and balise pointed at it.
func TestRedisCluster(t *testing.T) {
	o := mustBuild(t, "overlays/prod")
	ss := one[*appsv1.StatefulSet](t, o, "redis-cluster")
	if *ss.Spec.Replicas != 6 || len(ss.Spec.VolumeClaimTemplates) != 1 {
		t.Errorf("Redis Cluster: %d nodes and %d volume templates, want 6 and 1 (nodes.conf)", *ss.Spec.Replicas, len(ss.Spec.VolumeClaimTemplates))
	}
	pdb := one[*policyv1.PodDisruptionBudget](t, o, "redis-cluster")
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || !selects(t, pdb.Spec.Selector, ss.Spec.Template.Labels) {
		t.Errorf("Redis Cluster: the budget must let one node go at a time")
	}
	job := one[*batchv1.Job](t, o, "redis-cluster-create")
	if !strings.Contains(strings.Join(job.Spec.Template.Spec.Containers[0].Args, " "), "--cluster-replicas 1") {
		t.Errorf("the create Job must give each primary a replica")
	}
	d := one[*appsv1.Deployment](t, o, "balise")
	env := map[string]string{}
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if env["BALISE_REDIS_URL_FILE"] == "" || env["BALISE_RATE_LIMIT_KEY_SECRET_FILE"] == "" {
		t.Errorf("prod balise must read its Redis URL and rate-limit key from the Secret: %v", env)
	}
	args := serveArgs(t, d.Spec.Template.Spec.Containers[0])
	hpa := one[*autoscalingv2.HorizontalPodAutoscaler](t, o, "balise")
	if args["rate-limit-replicas"] != fmt.Sprint(*hpa.Spec.MinReplicas) {
		t.Errorf("--rate-limit-replicas %q must be the autoscaler's minimum, %d", args["rate-limit-replicas"], *hpa.Spec.MinReplicas)
	}
}
