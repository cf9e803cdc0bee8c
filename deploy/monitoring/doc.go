// Package monitoring holds balise's Grafana dashboard
// (balise-dashboard.json) and Prometheus rules (balise-rules.yml, with
// their promtool unit tests in balise-rules.test.yml). It has no code: its
// test checks that the dashboard parses, that every metric a panel or a
// rule uses is one the code registers, that every registered metric is
// documented in docs/operations.md, and runs promtool on the rules.
package monitoring
