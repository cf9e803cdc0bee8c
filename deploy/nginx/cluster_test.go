//go:build linux

package nginx

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"balise/internal/testutil"
)

// The replicas' rate limit: low enough that one client sending well above
// it for a few seconds measures the shared budget, high enough that each
// load client (loadRate) stays far below it, even while Redis is down and
// every replica grants a third of it.
const (
	rateLimit     = 20
	rateBurst     = 20
	replicaCount  = 3
	shutdownDelay = time.Second
)

// needTool returns the path of a program the test cannot run without,
// skipping the test when it is missing, unless CI is set: CI must run it.
// nginx lives in /usr/sbin, often not on an ordinary user's PATH.
func needTool(t *testing.T, name string, fallbacks ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range fallbacks {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI (Debian: apt-get install -y %s)", name, name)
	}
	t.Skipf("%s not installed (Debian: apt-get install -y %s); skipping", name, name)
	return ""
}

// repoRoot is the directory holding go.mod, above the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", dir)
		}
	}
}

// buildBalise compiles the real binary once (without -race even under
// go test -race: the replicas are the system under test, not the test).
func buildBalise(t *testing.T, root, dir string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not on PATH: %v", err)
	}
	out := filepath.Join(dir, "balise")
	start := time.Now()
	cmd := exec.Command(goBin, "build", "-o", out, "./cmd/balise")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/balise: %v\n%s", err, b)
	}
	t.Logf("built balise in %v", time.Since(start).Round(time.Millisecond))
	return out
}

// importIndex runs balise import (which writes a temporary file and
// renames it into place) and returns the index's content version.
func importIndex(t *testing.T, bin, out, in string) string {
	t.Helper()
	if b, err := exec.Command(bin, "import", "-quiet", "-o", out, in).CombinedOutput(); err != nil {
		t.Fatalf("balise import %s: %v\n%s", in, err, b)
	}
	b, err := exec.Command(bin, "info", out).Output()
	if err != nil {
		t.Fatalf("balise info %s: %v", out, err)
	}
	var info struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &info); err != nil || info.Version == "" {
		t.Fatalf("balise info %s: no version (%v):\n%.300s", out, err, b)
	}
	return info.Version
}

// changedSample writes the sample plus one more street: another content,
// hence another index version, for the rolling reload.
func changedSample(t *testing.T, sample, out string) {
	t.Helper()
	f, err := os.Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	extra := `{"id":"75199_scale0","type":"street","name":"Rue du Déploiement Progressif","postcode":"75019",` +
		`"citycode":"75119","city":"Paris","context":"75, Paris, Île-de-France","lat":48.8839,"lon":2.3822,"importance":0.5}` + "\n"
	if err := os.WriteFile(out, append(data, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ports returns n distinct free loopback ports (testutil.FreePort's range
// lies outside the ephemeral one, so a restarted replica finds its port
// again).
func ports(t *testing.T, n int) []int {
	t.Helper()
	seen := map[int]bool{}
	var out []int
	for len(out) < n {
		if p := testutil.FreePort(t); !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// proc is a child process the test owns: signalled by its own pid only.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // the Wait error, once done is closed
}

func startProc(t *testing.T, logPath string, setpgid bool, name string, args ...string) *proc {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Pdeathsig: a test binary killed by its -timeout leaves no server
	// behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: setpgid}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p
}

func (p *proc) running() bool {
	if p == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) signal(sig syscall.Signal) {
	if p.running() {
		p.cmd.Process.Signal(sig)
	}
}

// kill sends SIGKILL and waits for the process to go.
func (p *proc) kill() {
	if p.running() {
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// tail is the end of a log file, for failure messages.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// replica is one balise serve process.
type replica struct {
	n           int
	port, admin int
	log         string
	p           *proc
}

func (r *replica) addr() string      { return "127.0.0.1:" + strconv.Itoa(r.port) }
func (r *replica) adminURL() string  { return "http://127.0.0.1:" + strconv.Itoa(r.admin) }
func (r *replica) publicURL() string { return "http://" + r.addr() }

// cluster is redis-server, the replicas and nginx in front, all children
// of the test on loopback.
type cluster struct {
	t        *testing.T
	dir      string
	bin      string
	index    string
	redis    *testutil.RedisServer
	replicas []*replica
	nginxBin string
	prefix   string
	port     int // nginx
	nginx    *proc
}

func (c *cluster) url() string { return "http://127.0.0.1:" + strconv.Itoa(c.port) }

// serveArgs are the flags of every replica: shared index file and Redis,
// nginx (127.0.0.1) trusted for X-Forwarded-For, a shared rate limit with
// its fallback share, and a shutdown delay for the load balancer.
func (c *cluster) serveArgs(r *replica) []string {
	return []string{"serve", "--index", c.index,
		"--addr", r.addr(), "--admin-addr", "127.0.0.1:" + strconv.Itoa(r.admin),
		"--redis-url", c.redis.URL(), "--cache-size", "16MiB",
		"--rate-limit", strconv.Itoa(rateLimit), "--rate-burst", strconv.Itoa(rateBurst),
		"--rate-limit-replicas", strconv.Itoa(replicaCount), "--rate-limit-key-secret", "scaleout-test",
		"--trusted-proxies", "127.0.0.1/32",
		"--shutdown-delay", shutdownDelay.String(), "--shutdown-timeout", "10s",
		// Errors and slow requests are always logged; ordinary ones not.
		"--access-log-sample", "0", "--log-format", "json"}
}

// start (re)starts replica r on its ports and waits until its admin
// readiness answers 200.
func (c *cluster) start(r *replica) {
	c.t.Helper()
	r.p = startProc(c.t, r.log, false, c.bin, c.serveArgs(r)...)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if !r.p.running() {
			c.t.Fatalf("replica %d exited at start (%v):\n%s", r.n, r.p.err, tail(r.log, 2000))
		}
		if rep, err := readiness(r); err == nil && rep.Status == "ready" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("replica %d not ready within 20 s:\n%s", r.n, tail(r.log, 2000))
}

// readyReport is the part of the admin readiness report the test reads.
type readyReport struct {
	Status   string   `json:"status"`
	Failing  []string `json:"failing"`
	Warnings []string `json:"warnings"`
	Checks   struct {
		Index struct {
			Version string `json:"version"`
		} `json:"index"`
		Redis struct {
			OK      bool   `json:"ok"`
			Breaker string `json:"breaker"`
		} `json:"redis"`
	} `json:"checks"`
	code int
}

var adminClient = &http.Client{Timeout: 3 * time.Second}

func readiness(r *replica) (readyReport, error) {
	var rep readyReport
	resp, err := adminClient.Get(r.adminURL() + "/health/ready")
	if err != nil {
		return rep, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return rep, err
	}
	rep.code = resp.StatusCode
	if err := json.Unmarshal(b, &rep); err != nil {
		return rep, fmt.Errorf("readiness of replica %d: %v: %.200s", r.n, err, b)
	}
	return rep, nil
}

// upstreamParams are the server parameters (max_fails=... fail_timeout=...)
// of the first server line of the shipped balise.d/upstreams.conf: the
// test's replicas get the shipped passive health checks.
func upstreamParams(t *testing.T, shipped string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(shipped, "balise.d", "upstreams.conf"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*server\s+\S+\s*([^;]*);`).FindSubmatch(b)
	if m == nil {
		t.Fatal("balise.d/upstreams.conf has no server line")
	}
	return string(m[1])
}

// renderNginx copies the shipped nginx.conf and balise.conf unchanged into
// PREFIX/conf and writes the two per-deployment includes: the replicas'
// addresses (with the shipped parameters) and the test's listen address.
func (c *cluster) renderNginx(shipped string) {
	c.t.Helper()
	conf := filepath.Join(c.prefix, "conf")
	for _, d := range []string{filepath.Join(conf, "balise.d"), filepath.Join(c.prefix, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			c.t.Fatal(err)
		}
	}
	for _, f := range []string{"nginx.conf", "balise.conf"} {
		b, err := os.ReadFile(filepath.Join(shipped, f))
		if err != nil {
			c.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(conf, f), b, 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
	params := upstreamParams(c.t, shipped)
	var ups strings.Builder
	for _, r := range c.replicas {
		fmt.Fprintf(&ups, "server %s %s;\n", r.addr(), params)
	}
	listen := fmt.Sprintf("listen 127.0.0.1:%d;\n", c.port)
	for f, s := range map[string]string{"upstreams.conf": ups.String(), "listen.conf": listen} {
		if err := os.WriteFile(filepath.Join(conf, "balise.d", f), []byte(s), 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
}

// nginxArgs run nginx in the foreground on the rendered prefix. As root,
// the workers run as root too: the test's directories are private to it
// (nginx would otherwise switch to nobody, who cannot enter them).
func (c *cluster) nginxArgs(extra ...string) []string {
	global := "daemon off;"
	if os.Geteuid() == 0 {
		if u, err := user.Current(); err == nil {
			global += " user " + u.Username + ";"
		}
	}
	args := []string{"-p", c.prefix + "/", "-c", "conf/nginx.conf", "-e", "logs/error.log", "-g", global}
	return append(args, extra...)
}

// startNginx checks the configuration (nginx -t), starts nginx and waits
// until a request through it reaches a replica.
func (c *cluster) startNginx() {
	c.t.Helper()
	if b, err := exec.Command(c.nginxBin, c.nginxArgs("-t")...).CombinedOutput(); err != nil {
		c.t.Fatalf("nginx -t: %v\n%s", err, b)
	}
	// Its own process group: the workers go with the master in cleanup.
	c.nginx = startProc(c.t, filepath.Join(c.prefix, "logs", "stderr.log"), true, c.nginxBin, c.nginxArgs()...)
	c.t.Cleanup(c.stopNginx)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if !c.nginx.running() {
			c.t.Fatalf("nginx exited (%v):\n%s", c.nginx.err, tail(filepath.Join(c.prefix, "logs", "error.log"), 2000))
		}
		if resp, err := adminClient.Get(c.url() + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("nginx on port %d did not proxy /health within 10 s", c.port)
}

// stopNginx asks for a fast shutdown (SIGTERM), then kills the whole
// group if it lingers.
func (c *cluster) stopNginx() {
	if !c.nginx.running() {
		return
	}
	c.nginx.signal(syscall.SIGTERM)
	select {
	case <-c.nginx.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-c.nginx.cmd.Process.Pid, syscall.SIGKILL)
		<-c.nginx.done
	}
}

// newCluster builds balise and the index, and starts Redis, the replicas
// and nginx.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	nginxBin := needTool(t, "nginx", "/usr/sbin/nginx")
	needTool(t, "redis-server", "/usr/bin/redis-server")
	root := repoRoot(t)
	dir := t.TempDir()
	c := &cluster{t: t, dir: dir, nginxBin: nginxBin, prefix: filepath.Join(dir, "nginx")}
	c.bin = buildBalise(t, root, dir)
	c.index = filepath.Join(dir, "served.balise")
	importIndex(t, c.bin, c.index, filepath.Join(root, "internal", "sample", "paris.ndjson.gz"))
	c.redis = testutil.StartRedis(t)
	ps := ports(t, 2*replicaCount+1)
	c.port = ps[0]
	for i := range replicaCount {
		r := &replica{n: i, port: ps[1+2*i], admin: ps[2+2*i], log: filepath.Join(dir, fmt.Sprintf("replica-%d.log", i))}
		c.replicas = append(c.replicas, r)
		t.Cleanup(func() { r.p.kill() })
	}
	for _, r := range c.replicas {
		c.start(r)
	}
	c.renderNginx(filepath.Join(root, "deploy", "nginx"))
	c.startNginx()
	return c
}

// accessLine is one line of the shipped JSON access log format.
type accessLine struct {
	Msec           float64 `json:"msec"`
	RemoteAddr     string  `json:"remote_addr"`
	URI            string  `json:"uri"`
	Status         int     `json:"status"`
	UpstreamAddr   string  `json:"upstream_addr"`
	UpstreamStatus string  `json:"upstream_status"`
}

// accessLog reads nginx's access log.
func (c *cluster) accessLog() []accessLine {
	c.t.Helper()
	f, err := os.Open(filepath.Join(c.prefix, "logs", "balise-access.log"))
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	var out []accessLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l accessLine
		if err := json.Unmarshal(bytes.TrimSpace(sc.Bytes()), &l); err != nil {
			c.t.Errorf("access log line is not JSON: %v: %.200s", err, sc.Bytes())
			continue
		}
		out = append(out, l)
	}
	return out
}

// isClosed reports whether err means the peer closed the connection.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}
