// Package dashboard serves the live dashboard at /dashboard: a small page
// (plain HTML, CSS and JS embedded in the binary, charts drawn in SVG by
// its own code) and GET /dashboard/stats, the JSON it polls every second.
//
// The JSON is fed by the same counters as /metrics: a sampler reads the
// Prometheus registry (one Gather per sample, once a second) and keeps a
// ring of the last 300 samples, rates and latency percentiles computed
// from the deltas of the counters and histogram buckets between two
// samples. The sampler runs for as long as the server does, whether or not
// anyone looks: one Gather a second is cheap, and the charts then have
// five minutes of history the moment the page opens. Memory is bounded by
// the ring's fixed size.
//
// Requests to /dashboard itself are left out of the request rate and the
// latency percentiles, so that an open page does not chart its own polls.
// Nothing in the JSON is per client or per query: only sums over routes.
package dashboard
