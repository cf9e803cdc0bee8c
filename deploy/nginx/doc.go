// Package nginx holds the nginx load-balancer configuration shipped for
// running several balise replicas behind one address: nginx.conf (a main
// configuration whose paths are all relative to nginx's -p prefix),
// balise.conf (the upstream, retries, forwarding and buffering rules, with
// the reason for each), and balise.d/ (the per-deployment parts: the
// replicas' addresses and the listen address).
//
// It has no code. Its test runs these files unchanged in front of three
// real balise processes sharing one index file and one redis-server, under
// continuous load, and checks that no request fails while a replica is
// killed, while another drains on SIGTERM, while a new index is rolled
// across them and while Redis is killed, and that the replicas grant one
// client one rate-limit budget in all. It needs nginx and redis-server
// (Debian: apt-get install -y nginx redis-server); without them it
// is skipped, unless CI is set, in which case it fails.
//
// scripts/scaleout.sh measures throughput and the shared L2 hit rate with
// 1, 2 and 3 replicas behind the same files.
package nginx
