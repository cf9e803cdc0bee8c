package cache

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

// redisServer is a real redis-server child process on 127.0.0.1, owned by
// one test: started on a free port, stopped by its pid at cleanup.
type redisServer struct {
	t      testing.TB
	port   int
	dir    string
	extra  []string
	cmd    *exec.Cmd
	exited chan struct{}
	paused bool
}

// needRedis returns the redis-server binary, skipping the test when it is
// absent, unless CI is set: CI must run these tests (apt-get install -y
// redis-server).
func needRedis(t testing.TB) string {
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

// freePort finds a loopback port p with p+10000 free too (Redis Cluster's
// bus port), out of the kernel's ephemeral range so that a restarted
// server finds its port again.
func freePort(t testing.TB) int {
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

func startRedis(t testing.TB, extra ...string) *redisServer {
	t.Helper()
	needRedis(t)
	s := &redisServer{t: t, port: freePort(t), dir: t.TempDir(), extra: extra}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }
func (s *redisServer) url() string  { return "redis://" + s.addr() }

func (s *redisServer) start() {
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
	s.t.Fatalf("redis-server on %s did not answer PING within 5 s", s.addr())
}

// ping speaks RESP directly: the helper must not depend on the client
// under test.
func (s *redisServer) ping() error {
	c, err := net.DialTimeout("tcp", s.addr(), 200*time.Millisecond)
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

// kill sends SIGKILL to our own pid and waits for the process to go.
func (s *redisServer) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
	s.paused = false
}

func (s *redisServer) pause() {
	s.cmd.Process.Signal(syscall.SIGSTOP)
	s.paused = true
}

func (s *redisServer) resume() {
	s.cmd.Process.Signal(syscall.SIGCONT)
	s.paused = false
}

func (s *redisServer) stop() {
	if s.cmd == nil {
		return
	}
	if s.paused {
		s.resume()
	}
	s.kill()
}
