package k8s

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// redisConfPath is the component's node configuration, run here for real.
const redisConfPath = "components/redis-cluster/redis.conf"

// TestRedisClusterComponentSurvivesAPrimaryLoss runs the Redis Cluster the
// component ships, on loopback: six redis-server processes on its
// redis.conf with the StatefulSet's arguments, joined by the create Job's
// command, and a real balise serve pointed at it as the component's patch
// points balise (a comma-separated list of the nodes). It kills a primary
// under load and holds the promise of docs/deploy.md, "Redis": no request
// fails, the replica takes over, and balise goes on using Redis (its
// surviving shards at least: see failOverUnderLoad).
func TestRedisClusterComponentSurvivesAPrimaryLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six redis-server processes and balise: not in -short")
	}
	needRedisTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	built := buildBaliseAsync(ctx, t.TempDir())
	// Registered after the TempDir, so run before its removal: a build cut
	// short by a failure must have exited first.
	t.Cleanup(func() {
		cancel()
		built()
	})

	c := startRedisCluster(ctx, t)
	bin := built()
	if bin.err != nil {
		t.Fatal(bin.err)
	}
	b := startBalise(ctx, t, bin.path, c)
	l := startLoad(ctx, b.public, 4)
	defer l.stop()
	r := failOverUnderLoad(ctx, t, c, b, l)
	l.stop()
	r.answers, r.failures, r.maxLatency = l.answers.Load(), l.failures.Load(), time.Duration(l.maxLatency.Load())
	r.report(t, l)
}

// needRedisTools skips without redis-server or redis-cli, except in CI,
// which installs them (Debian's redis-server package brings redis-cli).
func needRedisTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI (apt-get install -y redis-server): %v", tool, err)
			}
			t.Skipf("%s not installed (apt-get install -y redis-server); skipping", tool)
		}
	}
}

// builtBinary is the outcome of building balise.
type builtBinary struct {
	path string
	err  error
}

// buildBaliseAsync builds balise from the repository root while the
// Cluster starts (a cold build takes longer than everything else here);
// the function it returns waits for the build.
func buildBaliseAsync(ctx context.Context, dir string) func() builtBinary {
	out := make(chan builtBinary, 1)
	go func() {
		path := filepath.Join(dir, "balise")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", path, "./cmd/balise")
		cmd.Dir = "../.."
		if b, err := cmd.CombinedOutput(); err != nil {
			out <- builtBinary{err: fmt.Errorf("go build ./cmd/balise: %v\n%s", err, b)}
			return
		}
		out <- builtBinary{path: path}
	}()
	return sync.OnceValue(func() builtBinary { return <-out })
}

// redisNode is one redis-server process.
type redisNode struct {
	port int
	dir  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	once sync.Once
}

func (n *redisNode) addr() string { return "127.0.0.1:" + strconv.Itoa(n.port) }

// kill SIGKILLs the process and reaps it; it may be called again.
func (n *redisNode) kill() {
	n.once.Do(func() {
		n.cmd.Process.Kill()
		<-n.done
	})
}

// cluster is the six nodes and the password they share.
type cluster struct {
	nodes    []*redisNode
	password string
	// createTook is how long the create Job's command took.
	createTook time.Duration
}

// startRedisCluster starts six nodes and joins them as the create Job does.
func startRedisCluster(ctx context.Context, t *testing.T) *cluster {
	t.Helper()
	conf, err := os.ReadFile(redisConfPath)
	if err != nil {
		t.Fatal(err)
	}
	pw := make([]byte, 24)
	rand.Read(pw)
	c := &cluster{password: hex.EncodeToString(pw)}
	used := map[int]bool{}
	for range 6 {
		n := startRedisNode(t, conf, freeRedisPort(t, used), c.password)
		c.nodes = append(c.nodes, n)
		t.Cleanup(n.kill)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range c.nodes {
				logTail(t, "redis "+n.addr(), filepath.Join(n.dir, "redis.log"))
			}
		}
	})
	err = poll(ctx, 10*time.Second, func() (bool, string) {
		for _, n := range c.nodes {
			if out, err := c.cli(ctx, n, "ping"); err != nil || strings.TrimSpace(out) != "PONG" {
				return false, fmt.Sprintf("%s: %q %v", n.addr(), out, err)
			}
		}
		return true, ""
	})
	if err != nil {
		t.Fatalf("the six nodes did not answer PING: %v", err)
	}
	c.create(ctx, t)
	return c
}

// startRedisNode runs redis-server on the shipped redis.conf with the
// StatefulSet's arguments, adapted to one loopback host.
func startRedisNode(t *testing.T, conf []byte, port int, password string) *redisNode {
	t.Helper()
	n := &redisNode{port: port, dir: t.TempDir(), done: make(chan struct{})}
	// Redis applies "dir" while it parses the file (it chdirs at once), so
	// "--dir" on the command line comes too late when /data does not exist:
	// the copy differs from the shipped file in that line only.
	const dirLine = "\ndir /data\n"
	if !strings.Contains(string(conf), dirLine) {
		t.Fatalf("%s no longer sets %q: adapt this test", redisConfPath, strings.TrimSpace(dirLine))
	}
	path := filepath.Join(n.dir, "redis.conf")
	local := strings.Replace(string(conf), dirLine, "\ndir "+n.dir+"\n", 1)
	if err := os.WriteFile(path, []byte(local), 0o600); err != nil {
		t.Fatal(err)
	}
	// Later options override the file's. The shipped cluster-node-timeout
	// (5000) is kept: the failover measured here is the one production
	// gets, and it fits the test's time budget. Each pod announces its
	// StatefulSet name; here every node is 127.0.0.1 and differs by port.
	// The shipped maxmemory (1gb) fits a 1300Mi pod; six nodes on a shared
	// test machine are capped lower (the test stores a few MB).
	args := []string{path,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--cluster-config-file", filepath.Join(n.dir, "nodes.conf"),
		"--cluster-announce-hostname", "127.0.0.1",
		"--requirepass", password, "--masterauth", password,
		"--maxmemory", "64mb", "--daemonize", "no",
		"--logfile", filepath.Join(n.dir, "redis.log")}
	n.cmd = exec.Command("redis-server", args...)
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("cannot start redis-server: %v", err)
	}
	go func() {
		n.cmd.Wait()
		close(n.done)
	}()
	return n
}

// freeRedisPort finds a loopback port p (at most 55000) with p+10000, the
// cluster bus, free too, away from the ports other work on this machine
// uses (7990-7999, 21100-21200).
func freeRedisPort(t *testing.T, used map[int]bool) int {
	t.Helper()
	reserved := func(p int) bool { return p >= 7990 && p <= 7999 || p >= 21100 && p <= 21200 }
	for range 500 {
		p := freePort(t)
		if p > 55000 || used[p] || used[p+10000] || reserved(p) || reserved(p+10000) {
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		if err != nil {
			continue
		}
		bus.Close()
		used[p], used[p+10000] = true, true
		return p
	}
	t.Fatal("no free port pair (p, p+10000) found")
	return 0
}

// freePort returns a loopback port the kernel just handed out.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// cli runs redis-cli against node n with the password in REDISCLI_AUTH,
// as the component's probes and Job do.
func (c *cluster) cli(ctx context.Context, n *redisNode, args ...string) (string, error) {
	return c.redisCLI(ctx, 3*time.Second, append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(n.port)}, args...)...)
}

func (c *cluster) redisCLI(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "redis-cli", args...)
	cmd.Env = append(os.Environ(), "REDISCLI_AUTH="+c.password)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// stateOK is the create Job's own test that the Cluster exists.
var stateOK = regexp.MustCompile(`(?m)^cluster_state:ok\r?$`)

// create runs the create Job's script twice: the first run joins the
// nodes, the second must find the Cluster and leave it alone (applying
// the manifests again is safe).
func (c *cluster) create(ctx context.Context, t *testing.T) {
	t.Helper()
	start := time.Now()
	if did := c.runCreateJob(ctx, t); !did {
		t.Fatal("the create Job found a Cluster on fresh nodes")
	}
	c.createTook = time.Since(start)
	err := poll(ctx, 15*time.Second, func() (bool, string) {
		for _, n := range c.nodes {
			if out, err := c.cli(ctx, n, "cluster", "info"); err != nil || !stateOK.MatchString(out) {
				return false, fmt.Sprintf("%s: %v\n%s", n.addr(), err, out)
			}
		}
		return true, ""
	})
	if err != nil {
		t.Fatalf("the Cluster did not reach cluster_state:ok on every node: %v", err)
	}
	if did := c.runCreateJob(ctx, t); did {
		t.Fatal("the create Job, run again, did not find the Cluster")
	}
	c.checkTopology(ctx, t)
}

// runCreateJob is create-job.yaml's script: if the first node says
// cluster_state:ok it does nothing, else it runs redis-cli --cluster
// create over the six nodes with one replica each. It reports whether it
// created.
func (c *cluster) runCreateJob(ctx context.Context, t *testing.T) bool {
	t.Helper()
	if out, err := c.cli(ctx, c.nodes[0], "cluster", "info"); err == nil && stateOK.MatchString(out) {
		return false
	}
	args := []string{"--cluster", "create"}
	for _, n := range c.nodes {
		args = append(args, n.addr())
	}
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := c.redisCLI(ctx, 30*time.Second, args...); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	return true
}

// checkTopology checks what the Job promises: three primaries, each with
// one replica.
func (c *cluster) checkTopology(ctx context.Context, t *testing.T) {
	t.Helper()
	roles := c.roles(ctx, t)
	replicas := map[int]int{}
	for _, r := range roles {
		if !r.primary {
			replicas[r.primaryPort]++
		}
	}
	if len(replicas) != 3 || len(roles) != 6 {
		t.Fatalf("want 3 primaries with one replica each; got roles %+v", roles)
	}
	for p, n := range replicas {
		if n != 1 {
			t.Fatalf("primary on port %d has %d replicas; want 1 (roles %+v)", p, n, roles)
		}
	}
}

// role is one node's ROLE.
type role struct {
	port        int
	primary     bool
	primaryPort int  // of a replica
	synced      bool // a replica done with its sync: the link is "connected"
}

// roles reads ROLE on every node that answers.
func (c *cluster) roles(ctx context.Context, t *testing.T) []role {
	t.Helper()
	var out []role
	for _, n := range c.nodes {
		r, err := c.role(ctx, n)
		if err == nil {
			out = append(out, r)
		}
	}
	return out
}

// role parses ROLE: "master" and its replication details, or "slave",
// the primary's host and port, the link state and the offset.
func (c *cluster) role(ctx context.Context, n *redisNode) (role, error) {
	out, err := c.cli(ctx, n, "role")
	if err != nil {
		return role{}, fmt.Errorf("%s role: %v: %s", n.addr(), err, out)
	}
	f := strings.Fields(out)
	switch {
	case len(f) > 0 && f[0] == "master":
		return role{port: n.port, primary: true}, nil
	case len(f) > 3 && f[0] == "slave":
		p, err := strconv.Atoi(f[2])
		return role{port: n.port, primaryPort: p, synced: f[3] == "connected"}, err
	}
	return role{}, fmt.Errorf("%s role: unexpected answer %q", n.addr(), out)
}

// node returns the node on port p.
func (c *cluster) node(p int) *redisNode {
	for _, n := range c.nodes {
		if n.port == p {
			return n
		}
	}
	return nil
}

// commandCalls is how many GET and SET (balise's L2 reads and writes)
// node n has served since it started.
func (c *cluster) commandCalls(ctx context.Context, n *redisNode) (int64, error) {
	out, err := c.cli(ctx, n, "info", "commandstats")
	if err != nil {
		return 0, fmt.Errorf("%s info commandstats: %v: %s", n.addr(), err, out)
	}
	var total int64
	for _, m := range regexp.MustCompile(`(?m)^cmdstat_(?:get|set):calls=(\d+)`).FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseInt(m[1], 10, 64)
		total += v
	}
	return total, nil
}

// poll calls cond every 50 ms until it holds, ctx ends or timeout passes;
// the error carries cond's last explanation.
func poll(ctx context.Context, timeout time.Duration, cond func() (bool, string)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, why := cond()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not within %v: %s", timeout, why)
		case <-tick.C:
		}
	}
}

// logTail logs the end of a log file, for a failed run.
func logTail(t *testing.T, name, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Logf("%s: %v", name, err)
		return
	}
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	t.Logf("%s, last lines:\n%s", name, b)
}

// baliseProc is a running balise serve.
type baliseProc struct {
	public, admin string // base URLs
	http          *http.Client
}

// startBalise runs balise serve on its bundled sample, with the Cluster as
// BALISE_REDIS_URL as the component's Secret gives it: every node, as a
// comma-separated list of redis:// URLs.
//
// --cache-size 0 turns L1 off, so that every request reads Redis (with L1
// on, each of the load's thousand keys would reach Redis once and then be
// answered in process, and the failover would not be exercised).
// --admission=false: load shedding on a shared CI machine answers 503s
// that say nothing about Redis.
func startBalise(ctx context.Context, t *testing.T, bin string, c *cluster) *baliseProc {
	t.Helper()
	var urls []string
	for _, n := range c.nodes {
		urls = append(urls, "redis://:"+c.password+"@"+n.addr())
	}
	pub, adm := "127.0.0.1:"+strconv.Itoa(freePort(t)), "127.0.0.1:"+strconv.Itoa(freePort(t))
	dir := t.TempDir()
	logPath := filepath.Join(dir, "balise.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--addr", pub, "--admin-addr", adm, "--access-log=false",
		"--cache-size", "0", "--admission=false", "--cache-dir", dir)
	cmd.Env = append(environWithout("BALISE_"), "BALISE_REDIS_URL="+strings.Join(urls, ","))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			logTail(t, "balise", logPath)
		}
	})
	b := &baliseProc{public: "http://" + pub, admin: "http://" + adm, http: &http.Client{Timeout: 3 * time.Second}}
	b.waitReady(ctx, t)
	if log, _ := os.ReadFile(logPath); !strings.Contains(string(log), `"redis_cluster":true`) {
		t.Fatalf("balise did not take the node list for a Cluster:\n%s", log)
	}
	return b
}

// environWithout is the test's environment minus the variables that start
// with prefix (a BALISE_* of the developer's shell must not change balise).
func environWithout(prefix string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			out = append(out, kv)
		}
	}
	return out
}

// waitReady waits for the public readiness, then for the admin report to
// see Redis answering (its first PING fetches the slot map).
func (b *baliseProc) waitReady(ctx context.Context, t *testing.T) {
	t.Helper()
	err := poll(ctx, 15*time.Second, func() (bool, string) {
		code, body, err := b.get(ctx, b.public+"/health/ready")
		return err == nil && code == http.StatusOK, fmt.Sprintf("%d %s %v", code, body, err)
	})
	if err != nil {
		t.Fatalf("balise's public /health/ready: %v", err)
	}
	err = poll(ctx, 5*time.Second, func() (bool, string) {
		code, rep, err := b.adminReady(ctx)
		return err == nil && code == http.StatusOK && rep.Checks.Redis.Enabled && rep.Checks.Redis.Status == "ok",
			fmt.Sprintf("%d %+v %v", code, rep, err)
	})
	if err != nil {
		t.Fatalf("balise's admin /health/ready does not report Redis ok: %v", err)
	}
}

// get returns the status and body of a GET.
func (b *baliseProc) get(ctx context.Context, u string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// readyReport is the part of the admin listener's GET /health/ready
// (internal/server/ready.go) this test reads.
type readyReport struct {
	Status string `json:"status"`
	Checks struct {
		Redis struct {
			OK      bool   `json:"ok"`
			Enabled bool   `json:"enabled"`
			Breaker string `json:"breaker"`
			Status  string `json:"status"`
			Error   string `json:"error"`
		} `json:"redis"`
	} `json:"checks"`
	Failing  []string `json:"failing"`
	Warnings []string `json:"warnings"`
}

func (b *baliseProc) adminReady(ctx context.Context) (int, readyReport, error) {
	var rep readyReport
	code, body, err := b.get(ctx, b.admin+"/health/ready")
	if err == nil {
		err = json.Unmarshal(body, &rep)
	}
	return code, rep, err
}

// l2Counters are balise's Redis figures, from the admin /metrics.
type l2Counters struct {
	hits, misses float64 // balise_cache_{hits,misses}_total{tier="l2"}
	// answered counts the GETs Redis answered (a value or nil).
	answered float64
	// failed counts the GETs that failed (error or timeout) and those the
	// breaker refused.
	failed, rejected float64
	writes           float64 // acknowledged L2 writes
	breakerOpens     float64
}

func (b *baliseProc) l2(ctx context.Context) (l2Counters, error) {
	code, body, err := b.get(ctx, b.admin+"/metrics")
	if err != nil || code != http.StatusOK {
		return l2Counters{}, fmt.Errorf("admin /metrics: %d %v", code, err)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	const d = "balise_cache_redis_request_duration_seconds_count"
	return l2Counters{
		hits:         m[`balise_cache_hits_total{tier="l2"}`],
		misses:       m[`balise_cache_misses_total{tier="l2"}`],
		answered:     m[d+`{op="get",outcome="ok"}`] + m[d+`{op="get",outcome="miss"}`],
		failed:       m[d+`{op="get",outcome="error"}`] + m[d+`{op="get",outcome="timeout"}`],
		rejected:     m[d+`{op="get",outcome="rejected"}`],
		writes:       m["balise_cache_redis_writes_total"],
		breakerOpens: m[`balise_cache_redis_breaker_transitions_total{to="open"}`],
	}, nil
}

// load sends searches over keep-alive connections until stopped.
type load struct {
	answers, failures atomic.Int64
	maxLatency        atomic.Int64 // nanoseconds
	mu                sync.Mutex
	firstErrors       []string
	cancel            context.CancelFunc
	wg                sync.WaitGroup
	started           time.Time
}

// streets are Paris streets of the bundled sample; with house numbers
// 1..200 they make a thousand distinct queries, so that the cache keys
// spread over every slot and repeat (L2 hits) within seconds.
var streets = []string{"rue de rivoli", "avenue des champs elysees", "boulevard saint germain",
	"rue de la paix", "place de la bastille"}

// loadPace is the least time between two requests of one worker. A paced
// load (about 250 requests per second per worker) sends thousands of
// requests through the failover without saturating the machine, which
// other work shares and whose saturation would slow redis-cli and the
// nodes' own timers down.
const loadPace = 4 * time.Millisecond

func startLoad(ctx context.Context, base string, workers int) *load {
	ctx, cancel := context.WithCancel(ctx)
	l := &load{cancel: cancel, started: time.Now()}
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	client := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer tr.CloseIdleConnections()
			rng := mrand.New(mrand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			tick := time.NewTicker(loadPace)
			defer tick.Stop()
			for ctx.Err() == nil {
				q := fmt.Sprintf("%d %s paris", 1+rng.IntN(200), streets[rng.IntN(len(streets))])
				l.one(ctx, client, base+"/search?limit=1&q="+url.QueryEscape(q))
				select {
				case <-ctx.Done():
				case <-tick.C:
				}
			}
		}()
	}
	return l
}

// one sends a request and counts it; a request cut by stop is not counted.
func (l *load) one(ctx context.Context, client *http.Client, u string) {
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
	}
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		l.failures.Add(1)
		l.mu.Lock()
		if len(l.firstErrors) < 5 {
			l.firstErrors = append(l.firstErrors, fmt.Sprintf("%s after %v: %v", time.Since(l.started).Round(time.Millisecond), time.Since(start).Round(time.Millisecond), err))
		}
		l.mu.Unlock()
		return
	}
	l.answers.Add(1)
	d := int64(time.Since(start))
	for m := l.maxLatency.Load(); d > m && !l.maxLatency.CompareAndSwap(m, d); m = l.maxLatency.Load() {
	}
}

// stop ends the load and waits for its workers; it may be called again.
func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
}

// outcome is what the failover cost, for the assertions and the log.
type outcome struct {
	createTook, failoverTook time.Duration
	killed, promoted         int
	before, atOK, end        l2Counters
	promotedCalls            int64 // GET/SET the promoted replica served after its promotion
	statesDuringFailover     map[string]int
	readiness                readinessLog
	answers, failures        int64
	maxLatency               time.Duration
}

// failOverUnderLoad lets the load reach Redis, kills a primary, waits for
// its replica to take over, and lets the load run on.
func failOverUnderLoad(ctx context.Context, t *testing.T, c *cluster, b *baliseProc, l *load) *outcome {
	t.Helper()
	r := &outcome{createTook: c.createTook}
	r.before = b.waitL2(ctx, t, l2Counters{}, 2*time.Second)
	victim, replica := pickPrimary(ctx, t, c)
	r.killed, r.promoted = victim.port, replica.port
	watch := watchReadiness(ctx, b)
	killedAt := time.Now()
	victim.kill()
	r.statesDuringFailover = c.waitFailover(ctx, t, victim, replica)
	r.failoverTook = time.Since(killedAt)
	callsAtOK, err := c.commandCalls(ctx, replica)
	if err != nil {
		t.Fatal(err)
	}
	r.atOK = b.waitL2(ctx, t, r.before, 0)
	// A dead primary answers nothing, so go-redis learns of its
	// replacement only when it re-reads the slot map: balise has it do so
	// every 2 s (ClusterStateReloadInterval; go-redis's own default is
	// 60 s). 3 s after the failover the promoted replica must be serving.
	r.end = b.waitL2(ctx, t, r.atOK, 3*time.Second)
	r.readiness = watch()
	callsAtEnd, err := c.commandCalls(ctx, replica)
	if err != nil {
		t.Fatal(err)
	}
	r.promotedCalls = callsAtEnd - callsAtOK
	return r
}

// waitL2 waits at least minWait, and until balise has had GETs answered
// (and hits) by Redis since since, and writes acknowledged at all; it
// returns the counters. (Once the load's thousand answers are stored, new
// writes are rare: only the answers computed while the breaker was open.)
func (b *baliseProc) waitL2(ctx context.Context, t *testing.T, since l2Counters, minWait time.Duration) l2Counters {
	t.Helper()
	start := time.Now()
	var now l2Counters
	err := poll(ctx, minWait+10*time.Second, func() (bool, string) {
		var err error
		now, err = b.l2(ctx)
		return err == nil && time.Since(start) >= minWait && now.answered > since.answered &&
				now.hits > since.hits && now.writes > 0,
			fmt.Sprintf("L2 since %+v: %+v %v", since, now, err)
	})
	if err != nil {
		t.Fatalf("balise does not use Redis: %v", err)
	}
	return now
}

// pickPrimary waits for a replica done with its first sync and returns
// it with its primary. A replica that never synced refuses to take over
// ("Disconnected from master for longer than allowed"): with diskless
// replication it starts its sync 5 s (repl-diskless-sync-delay) after it
// asks, so a kill in the first seconds of a new Cluster loses the shard.
func pickPrimary(ctx context.Context, t *testing.T, c *cluster) (primary, replica *redisNode) {
	t.Helper()
	err := poll(ctx, 15*time.Second, func() (bool, string) {
		roles := c.roles(ctx, t)
		for _, r := range roles {
			if r.synced {
				primary, replica = c.node(r.primaryPort), c.node(r.port)
				return true, ""
			}
		}
		return false, fmt.Sprintf("roles %+v", roles)
	})
	if err != nil {
		t.Fatalf("no replica done with its sync: %v", err)
	}
	return primary, replica
}

// waitFailover waits until the replica of the killed primary is a primary
// and every surviving node serves all 16384 slots (with
// cluster-require-full-coverage no, cluster_state stays ok while a shard
// is down: the slot count is what shows the failover done). It returns
// how often each cluster_state was seen on the survivors meanwhile.
func (c *cluster) waitFailover(ctx context.Context, t *testing.T, killed, replica *redisNode) map[string]int {
	t.Helper()
	states := map[string]int{}
	state := regexp.MustCompile(`(?m)^cluster_state:(\w+)`)
	err := poll(ctx, 20*time.Second, func() (bool, string) {
		done, why := true, ""
		for _, n := range c.nodes {
			if n == killed {
				continue
			}
			out, err := c.cli(ctx, n, "cluster", "info")
			if m := state.FindStringSubmatch(out); m != nil {
				states[m[1]]++
			}
			if err != nil || !stateOK.MatchString(out) || !strings.Contains(out, "cluster_slots_ok:16384") {
				done, why = false, fmt.Sprintf("%s: %v\n%s", n.addr(), err, out)
			}
		}
		if r, err := c.role(ctx, replica); err != nil || !r.primary {
			done, why = false, fmt.Sprintf("replica %s: %+v %v", replica.addr(), r, err)
		}
		return done, why
	})
	if err != nil {
		t.Fatalf("no failover after killing %s: %v", killed.addr(), err)
	}
	return states
}

// readinessLog is what the admin readiness said during the failover.
type readinessLog struct {
	polls, notReady, errs int
	redis                 map[string]int // Redis status (breaker) → count
}

// watchReadiness polls the admin readiness every 100 ms until the
// returned function is called, which returns what it saw.
func watchReadiness(ctx context.Context, b *baliseProc) func() readinessLog {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan readinessLog, 1)
	go func() {
		rl := readinessLog{redis: map[string]int{}}
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			code, rep, err := b.adminReady(ctx)
			switch {
			case ctx.Err() != nil:
				done <- rl
				return
			case err != nil:
				rl.errs++
			case code != http.StatusOK:
				rl.notReady++
			}
			rl.polls++
			rl.redis[rep.Checks.Redis.Status+" ("+rep.Checks.Redis.Breaker+")"]++
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()
	return func() readinessLog {
		cancel()
		return <-done
	}
}

// report logs the figures and holds the promises.
func (r *outcome) report(t *testing.T, l *load) {
	t.Helper()
	t.Logf("cluster created in %v; primary :%d killed, replica :%d promoted and all slots served %v later",
		r.createTook.Round(time.Millisecond), r.killed, r.promoted, r.failoverTook.Round(time.Millisecond))
	t.Logf("cluster_state seen on the survivors during the failover: %v", r.statesDuringFailover)
	t.Logf("requests: %d answered, %d failed, slowest %v", r.answers, r.failures, r.maxLatency.Round(time.Millisecond))
	for _, s := range []struct {
		name string
		c    l2Counters
	}{{"before the kill", r.before}, {"at the failover", r.atOK}, {"at the end", r.end}} {
		t.Logf("L2 %s: %.0f hits, %.0f misses, %.0f GETs answered, %.0f failed, %.0f refused by the breaker, %.0f writes, breaker opened %.0f times",
			s.name, s.c.hits, s.c.misses, s.c.answered, s.c.failed, s.c.rejected, s.c.writes, s.c.breakerOpens)
	}
	t.Logf("the promoted replica served %d GET/SET after the failover", r.promotedCalls)
	t.Logf("admin readiness during the failover: %d polls, %d not ready, %d errors; Redis status (breaker): %v",
		r.readiness.polls, r.readiness.notReady, r.readiness.errs, r.readiness.redis)
	if r.failures > 0 {
		t.Errorf("%d requests failed while a primary was lost; want none. First: %v", r.failures, l.firstErrors)
	}
	if r.promotedCalls == 0 {
		t.Errorf("the promoted replica served no GET/SET in the 3 s after the failover; balise still reads the dead primary's slot map")
	}
	if r.end.breakerOpens > 0 {
		t.Errorf("the breaker opened %.0f times for the loss of one shard of three; want 0 (the other shards still answer)", r.end.breakerOpens)
	}
	if r.answers < 500 {
		t.Errorf("only %d answers; want > 500 for the run to mean something", r.answers)
	}
	if r.readiness.notReady > 0 || r.readiness.errs > 0 || r.readiness.polls == 0 {
		t.Errorf("admin readiness during the failover: %d polls, %d not ready, %d errors; want ready throughout (Redis is advisory)",
			r.readiness.polls, r.readiness.notReady, r.readiness.errs)
	}
}
