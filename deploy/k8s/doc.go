// Package k8s holds balise's Kubernetes manifests (a kustomize base, the
// dev and prod overlays, a Redis Cluster component and a Prometheus Adapter
// rule) and the tests that check them offline: every overlay builds with
// the kustomize API, every object decodes strictly into its API type (an
// unknown or misspelt field fails), and the objects agree with each other
// and with balise (selectors select, probes and flags exist, the drain fits
// the grace period, the sizing follows docs/capacity.md).
//
// It is a module of its own so that the Kubernetes libraries stay out of
// balise's binary. Run its tests with
//
//	cd deploy/k8s && go test ./...
//
// and regenerate base/prometheusrule.yaml from deploy/monitoring with
//
//	go test -run TestPrometheusRuleIsGenerated -update
package k8s
