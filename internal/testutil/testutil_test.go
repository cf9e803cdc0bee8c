package testutil_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"balise/internal/index"
	"balise/internal/testutil"
	"balise/internal/text"
)

func TestMain(m *testing.M) { testutil.Main(m) }

func TestDocJSON(t *testing.T) {
	for _, c := range []struct {
		d    testutil.Doc
		n    int
		want string
	}{
		{testutil.Doc{}, 0, `{"id":"doc000","type":"street","name":"ellington","lat":48.3254,"lon":2.256,"importance":0}`},
		{testutil.Doc{"name": "rue des avions", "importance": nil, "id": "x"}, 7,
			`{"id":"x","type":"street","name":"rue des avions","lat":48.3254,"lon":2.256}`},
		{testutil.Doc{"zz": 1, "city": "Paris", "aa": "b", "housenumbers": map[string]any{"1": map[string]any{"lat": 1, "lon": 2}}}, 12,
			`{"id":"doc012","type":"street","name":"ellington","city":"Paris","lat":48.3254,"lon":2.256,"importance":0,"housenumbers":{"1":{"lat":1,"lon":2}},"aa":"b","zz":1}`},
	} {
		if got := c.d.JSON(c.n); got != c.want {
			t.Errorf("JSON(%d):\n got %s\nwant %s", c.n, got, c.want)
		}
	}
	lines := testutil.NDJSON(testutil.Doc{}, testutil.Doc{"name": "b"})
	if len(lines) != 2 || !strings.Contains(lines[0], `"doc000"`) || !strings.Contains(lines[1], `"doc001"`) || !strings.Contains(lines[1], `"name":"b"`) {
		t.Errorf("NDJSON: %q", lines)
	}
}

func TestWriteAndOpenIndex(t *testing.T) {
	path := testutil.WriteIndex(t, index.BuildOptions{Text: text.Config{Profile: text.ProfileDefault}, Workers: 2},
		testutil.NDJSON(testutil.Doc{"name": "rue des avions"}, testutil.Doc{"name": "rue des lilas"})...)
	ix := testutil.OpenIndex(t, path, index.OpenOptions{Verify: true})
	if ix.NumDocs() != 2 || ix.Path() != path {
		t.Errorf("%d documents at %s", ix.NumDocs(), ix.Path())
	}
	if _, ok := ix.Lookup("avions"); !ok {
		t.Error("term avions not indexed")
	}
}

func TestBanNC(t *testing.T) {
	p := testutil.BanNC(t)
	if q := testutil.BanNC(t); q != p {
		t.Errorf("second call: %s, want the same %s", q, p)
	}
	ix := testutil.OpenIndex(t, p, index.OpenOptions{Verify: true})
	if ix.NumDocs() != 1951 {
		t.Errorf("%d documents, want 1951", ix.NumDocs())
	}
}

func TestSyncBufferAndJSONLines(t *testing.T) {
	var b testutil.SyncBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { fmt.Fprintf(&b, "{\"n\":%d}\n\n", i) })
	}
	wg.Wait()
	recs := testutil.JSONLines(t, b.String())
	seen := map[float64]bool{}
	for _, r := range recs {
		seen[r["n"].(float64)] = true
	}
	if len(recs) != 8 || len(seen) != 8 {
		t.Errorf("%d records, %d distinct: %s", len(recs), len(seen), b.String())
	}
	if got := testutil.JSONLines(t, ""); len(got) != 0 {
		t.Errorf("empty log: %v", got)
	}
}

func TestGet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", r.Header.Get("X-In"))
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprint(w, r.URL.RequestURI())
	}))
	defer srv.Close()
	r := testutil.Get(t, srv.URL+"/a?b=c", "X-In", "v")
	if r.Status != http.StatusTeapot || r.Header.Get("X-Echo") != "v" || string(r.Body) != "/a?b=c" {
		t.Errorf("%d %v %q", r.Status, r.Header, r.Body)
	}
}

func TestReadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("content"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := string(testutil.ReadFile(t, p)); got != "content" {
		t.Errorf("%q", got)
	}
}

// answers reports whether a PING to addr gets +PONG within d.
func answers(addr string, d time.Duration) bool {
	c, err := net.DialTimeout("tcp", addr, d)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(d))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	l, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(l, "+PONG")
}

func TestRedisServer(t *testing.T) {
	s := testutil.StartRedis(t)
	if s.Addr() != fmt.Sprintf("127.0.0.1:%d", s.Port()) || s.URL() != "redis://"+s.Addr() {
		t.Errorf("addr %s, url %s, port %d", s.Addr(), s.URL(), s.Port())
	}
	for _, step := range []struct {
		name string
		do   func()
		up   bool
	}{
		{"started", func() {}, true},
		{"paused", s.Pause, false},
		{"resumed", s.Resume, true},
		{"killed", s.Kill, false},
		{"restarted", s.Start, true},
		{"paused again", s.Pause, false}, // the cleanup must kill a paused server too
	} {
		step.do()
		wait := time.Second
		if !step.up {
			wait = 200 * time.Millisecond
		}
		if got := answers(s.Addr(), wait); got != step.up {
			t.Fatalf("%s: answers PING %v, want %v", step.name, got, step.up)
		}
	}
}
