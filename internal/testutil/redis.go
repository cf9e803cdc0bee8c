package testutil

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RedisServer is a real redis-server child process on 127.0.0.1, owned by
// one test: started on a free port, signalled by its own pid only, and
// killed when the test ends.
type RedisServer struct {
	t      testing.TB
	port   int
	dir    string
	extra  []string
	cmd    *exec.Cmd
	exited chan struct{}
	paused bool
}

// NeedRedis returns the redis-server binary, skipping the test when it is
// absent, unless CI is set: CI must run these tests (apt-get install -y
// redis-server).
func NeedRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server is required in CI (apt-get install -y redis-server): %v", err)
		}
		t.Skip("redis-server not installed (apt-get install -y redis-server); skipping")
	}
	return bin
}

// FreePort finds a loopback port p with p+10000 free too (Redis Cluster's
// bus port), out of the kernel's ephemeral range so that a restarted
// server finds its port again.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 200 {
		p := 20000 + rand.IntN(10000)
		a, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		b, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		a.Close()
		if err != nil {
			continue
		}
		b.Close()
		return p
	}
	t.Fatal("no free port pair found")
	return 0
}

// StartRedis starts a redis-server (no persistence, its directory and log
// in the test's temporary directory, extra arguments appended) and waits
// for its PING. The test is skipped when redis-server is not installed
// (see NeedRedis).
func StartRedis(t testing.TB, extra ...string) *RedisServer {
	t.Helper()
	NeedRedis(t)
	s := &RedisServer{t: t, port: FreePort(t), dir: t.TempDir(), extra: extra}
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// Port is the server's port on 127.0.0.1.
func (s *RedisServer) Port() int { return s.port }

// Addr is the server's host:port.
func (s *RedisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is the server's redis:// URL.
func (s *RedisServer) URL() string { return "redis://" + s.Addr() }

// Start (re)starts the process on the same port and directory and waits
// up to 5 s for its PING.
func (s *RedisServer) Start() {
	s.t.Helper()
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log")}, s.extra...)
	s.cmd = exec.Command("redis-server", args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("cannot start redis-server: %v", err)
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		cmd.Wait()
		close(done)
	}(s.cmd, s.exited)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if s.ping() == nil {
			return
		}
		select {
		case <-s.exited:
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("redis-server exited at start:\n%s", log)
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.t.Fatalf("redis-server on %s did not answer PING within 5 s", s.Addr())
}

// ping speaks RESP directly: the helper must not depend on a client under
// test.
func (s *RedisServer) ping() error {
	c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("unexpected PING answer %q", line)
	}
	return nil
}

// Kill sends SIGKILL to our own child (continued first if paused, so that
// it cannot outlive the test) and waits for it to go. It does nothing
// when the process is not running.
func (s *RedisServer) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	if s.paused {
		s.Resume()
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}

// Pause stops the process (SIGSTOP): connections stay open, nothing is
// answered.
func (s *RedisServer) Pause() {
	s.cmd.Process.Signal(syscall.SIGSTOP)
	s.paused = true
}

// Resume continues a paused process (SIGCONT).
func (s *RedisServer) Resume() {
	s.cmd.Process.Signal(syscall.SIGCONT)
	s.paused = false
}
