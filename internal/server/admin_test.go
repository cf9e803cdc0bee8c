package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"balise/internal/telemetry"
	"balise/internal/testutil"
)

// adminRig is a server over a one-street index with telemetry, on real
// loopback listeners, configured by mutate.
type adminRig struct {
	srv        *Server
	url, admin string
	logs       *testutil.SyncBuffer
}

func newAdminRig(t *testing.T, mutate func(*Config)) *adminRig {
	t.Helper()
	e, ix := testEngine(t, "rue un")
	holder := NewHolder(e, ix.Close)
	r := &adminRig{logs: &testutil.SyncBuffer{}}
	tcfg := telemetry.DefaultConfig()
	tcfg.LogOutput = r.logs
	tcfg.AccessLog = false
	tel, shutdownTel, err := telemetry.Setup(context.Background(), tcfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Telemetry = tel
	cfg.Version = "test"
	cfg.ShutdownTimeout = 5 * time.Second
	if mutate != nil {
		mutate(&cfg)
	}
	if r.srv, err = New(cfg, holder, tel.Logger); err != nil {
		t.Fatal(err)
	}
	var cancel func()
	var wait func() error
	r.url, r.admin, cancel, wait = serveOnLoopback(t, r.srv)
	t.Cleanup(func() {
		cancel()
		wait()
		holder.Close()
		shutdownTel(context.Background())
	})
	return r
}

// send makes one request over HTTP with the given Host ("" keeps the
// URL's) and headers as name, value pairs.
func send(t *testing.T, method, u, host string, hdr ...string) testutil.Response {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := testutil.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return testutil.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// refusedCount is balise_admin_requests_refused_total{reason}.
func refusedCount(t *testing.T, base, reason string) float64 {
	t.Helper()
	return value(t, scrape(t, base), "balise_admin_requests_refused_total", "reason", reason)
}

// pprof and expvar are on the admin listener only.
func TestAdminListener(t *testing.T) {
	r := newRig(t, rigOptions{})
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/vars", "/metrics", "/health/ready"} {
		if rep := testutil.Get(t, r.admin+p); rep.Status != 200 {
			t.Errorf("admin %s: %d", p, rep.Status)
		}
		if p == "/debug/vars" {
			var v map[string]any
			if err := json.Unmarshal(testutil.Get(t, r.admin+p).Body, &v); err != nil || v["memstats"] == nil {
				t.Errorf("expvar: %v", err)
			}
		}
	}
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/vars"} {
		if rep := testutil.Get(t, r.url+p); rep.Status != 404 {
			t.Errorf("public %s: %d, want 404", p, rep.Status)
		}
	}
	// Nothing of the admin listener is cached or sniffed.
	rep := testutil.Get(t, r.admin+"/debug/pprof/")
	if rep.Header.Get("Cache-Control") != "no-store" || rep.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("admin headers: %v", rep.Header)
	}
}

// A Host header that is not a loopback name, the listener's address or
// an allowed name is refused (421) on every route, including from a
// loopback peer: that is what DNS rebinding looks like.
func TestAdminHostCheck(t *testing.T) {
	r := newAdminRig(t, func(c *Config) {
		c.AdminAddr = "admin.balise.internal:7879"
		c.AdminAllowedHosts = []string{"geo-admin.internal", " Other.Example:8080 "}
	})
	port := r.admin[strings.LastIndexByte(r.admin, ':')+1:]
	for _, host := range []string{"evil.example", "evil.example:" + port, "127.0.0.1.evil.example", "localhost.evil.example",
		"10.1.2.3:" + port, "geo-admin.internal.evil.example", "[::2]"} {
		for _, route := range []struct{ method, path string }{
			{"GET", "/debug/pprof/"}, {"GET", "/debug/vars"}, {"GET", "/health/ready"}, {"POST", "/admin/reload"}, {"GET", "/health"},
		} {
			rep := send(t, route.method, r.admin+route.path, host)
			if rep.Status != http.StatusMisdirectedRequest || !strings.Contains(string(rep.Body), "--admin-allowed-hosts") {
				t.Errorf("Host %q, %s %s: %d %s; want 421", host, route.method, route.path, rep.Status, rep.Body)
			}
		}
	}
	for _, host := range []string{"localhost", "localhost:1234", "LOCALHOST.", "127.0.0.1:" + port, "127.0.0.1",
		"127.9.9.9:80", "[::1]:" + port, "[::1]", "admin.balise.internal:" + port, "geo-admin.internal", "GEO-ADMIN.internal:1", "other.example"} {
		if rep := send(t, "GET", r.admin+"/health/ready", host); rep.Status != 200 {
			t.Errorf("Host %q: %d %s; want 200", host, rep.Status, rep.Body)
		}
	}
	if n := refusedCount(t, r.url, refusedHost); n != 35 {
		t.Errorf("refused for the host: %v, want 35", n)
	}
	// The public listener is not concerned.
	if rep := send(t, "GET", r.url+"/health", "evil.example"); rep.Status != 200 {
		t.Errorf("public /health with another Host: %d", rep.Status)
	}

	open := newAdminRig(t, func(c *Config) { c.AdminAllowedHosts = []string{"*"} })
	if rep := send(t, "GET", open.admin+"/health", "evil.example"); rep.Status != 200 {
		t.Errorf(`with "*": %d`, rep.Status)
	}
}

// The address a connection came in on is allowed as a Host, whatever the
// interface (the admin listener bound to a private address is reached as
// http://10.1.2.3:7879).
func TestAdminHostPolicyOwnAddress(t *testing.T) {
	p := newHostPolicy("0.0.0.0:7879", nil)
	if p.names["0.0.0.0"] {
		t.Error("the wildcard address taken for a name")
	}
	local := &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 7879}
	for host, want := range map[string]bool{"10.1.2.3:7879": true, "10.1.2.3": true, "[::ffff:10.1.2.3]:1": true, "10.1.2.4:7879": false, "evil.example": false} {
		req := httptest.NewRequest("GET", "/health", nil)
		req.Host = host
		req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, net.Addr(local)))
		if got := p.allows(req); got != want {
			t.Errorf("Host %q on 10.1.2.3: %v, want %v", host, got, want)
		}
	}
}

// Cross-origin state-changing requests from a browser are refused (403);
// same-origin ones and those of non-browser clients pass. Without an
// opener, a request that passed gets 501 from the reload route.
func TestAdminCrossOrigin(t *testing.T) {
	r := newAdminRig(t, nil)
	refusedBefore := refusedCount(t, r.url, refusedCrossOrigin)
	u, _ := url.Parse(r.admin)
	for _, hdr := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Origin", "http://evil.example"},
		{"Origin", "http://localhost:1"},
		{"Origin", "null"},
	} {
		for _, path := range []string{"/admin/reload", "/debug/pprof/symbol"} {
			rep := send(t, "POST", r.admin+path, "", hdr...)
			if rep.Status != http.StatusForbidden || !strings.Contains(string(rep.Body), "cross-site request forgery") {
				t.Errorf("POST %s with %v: %d %s; want 403", path, hdr, rep.Status, rep.Body)
			}
		}
	}
	for _, hdr := range [][]string{
		nil, // curl, a script
		{"Sec-Fetch-Site", "same-origin"},
		{"Sec-Fetch-Site", "none"}, // typed in the address bar
		{"Origin", "http://" + u.Host},
	} {
		if rep := send(t, "POST", r.admin+"/admin/reload", "", hdr...); rep.Status != http.StatusNotImplemented {
			t.Errorf("POST /admin/reload with %v: %d %s; want 501 (passed the checks)", hdr, rep.Status, rep.Body)
		}
	}
	// Reading is not state-changing: allowed, and no CORS header lets a
	// page of another origin see the answer.
	rep := send(t, "GET", r.admin+"/health/ready", "", "Sec-Fetch-Site", "cross-site", "Origin", "http://evil.example")
	if rep.Status != 200 || rep.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("cross-site GET: %d, ACAO %q", rep.Status, rep.Header.Get("Access-Control-Allow-Origin"))
	}
	if n := refusedCount(t, r.url, refusedCrossOrigin) - refusedBefore; n != 10 {
		t.Errorf("refused as cross-origin: %v, want 10", n)
	}
}

// With a token, every admin route but /health needs it.
func TestAdminToken(t *testing.T) {
	const token = "s3cret-admin-token"
	r := newAdminRig(t, func(c *Config) {
		c.AdminToken = token
		c.Args = []string{"balise", "serve", "--admin-token", token}
	})
	for _, route := range []struct{ method, path string }{
		{"GET", "/debug/pprof/"}, {"GET", "/debug/pprof/cmdline"}, {"GET", "/debug/vars"}, {"GET", "/metrics"},
		{"GET", "/health/ready"}, {"POST", "/admin/reload"}, {"POST", "/debug/pprof/symbol"},
	} {
		for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer wrong", "Basic " + token, token, "Bearer " + token + "x", "Bearer " + token[:5]} {
			rep := send(t, route.method, r.admin+route.path, "", "Authorization", auth)
			if rep.Status != http.StatusUnauthorized || !strings.HasPrefix(rep.Header.Get("WWW-Authenticate"), "Bearer ") ||
				!strings.Contains(string(rep.Body), "Authorization: Bearer") {
				t.Errorf("%s %s with %q: %d %v %s; want 401 with a Bearer challenge", route.method, route.path, auth, rep.Status, rep.Header, rep.Body)
			}
		}
		want := 200
		if route.path == "/admin/reload" {
			want = http.StatusNotImplemented
		}
		for _, auth := range []string{"Bearer " + token, "bearer  " + token + " "} {
			if rep := send(t, route.method, r.admin+route.path, "", "Authorization", auth); rep.Status != want {
				t.Errorf("%s %s with the token (%q): %d %s", route.method, route.path, auth, rep.Status, rep.Body)
			} else if strings.Contains(string(rep.Body), token) {
				t.Errorf("%s %s shows the token: %s", route.method, route.path, rep.Body)
			}
		}
	}
	if rep := send(t, "GET", r.admin+"/health", ""); rep.Status != 200 {
		t.Errorf("/health without the token: %d (liveness probes)", rep.Status)
	}
	if rep := send(t, "GET", r.admin+"/health", "", "Authorization", "Bearer wrong"); rep.Status != 200 {
		t.Errorf("/health with a wrong token: %d", rep.Status)
	}
	if got := send(t, "GET", r.admin+"/debug/pprof/", "", "Authorization", "Bearer wrong").Header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
		t.Errorf("challenge after a wrong token: %q", got)
	}
	// The Host check comes first, the cross-origin check before the token.
	if rep := send(t, "GET", r.admin+"/debug/pprof/", "evil.example", "Authorization", "Bearer "+token); rep.Status != http.StatusMisdirectedRequest {
		t.Errorf("a rebound name with the token: %d", rep.Status)
	}
	if rep := send(t, "POST", r.admin+"/admin/reload", "", "Sec-Fetch-Site", "cross-site"); rep.Status != http.StatusForbidden {
		t.Errorf("cross-site POST without a token: %d", rep.Status)
	}
	if n := refusedCount(t, r.url, refusedToken); n != 7*8+1 {
		t.Errorf("refused for the token: %v, want %d", n, 7*8+1)
	}
}

// The command line shown by /debug/pprof/cmdline and /debug/vars hides
// secrets.
func TestAdminCmdlineRedacted(t *testing.T) {
	args := []string{"balise", "serve", "--redis-url", "redis://:hunter2-pw@10.0.0.5:6379/0", "--admin-token=tok-abc123",
		"-api-key", "k-99999", "--redis-url=rediss://geo:pw-77777@h:6380,redis://:pw-88888@h2:6379", "--index", "/srv/fr.balise",
		"--otlp=https://collector/v1?api_key=qk-55555&x=1"}
	secrets := []string{"hunter2-pw", "tok-abc123", "k-99999", "pw-77777", "pw-88888", "qk-55555"}
	r := newAdminRig(t, func(c *Config) { c.Args = args })
	want := RedactArgs(args)

	cmdline := testutil.Get(t, r.admin+"/debug/pprof/cmdline")
	if got := strings.Split(string(cmdline.Body), "\x00"); cmdline.Status != 200 || !slices.Equal(got, want) {
		t.Errorf("cmdline: %d %q; want %q", cmdline.Status, got, want)
	}
	vars := testutil.Get(t, r.admin+"/debug/vars")
	var v struct {
		Cmdline  []string       `json:"cmdline"`
		Memstats map[string]any `json:"memstats"`
	}
	if err := json.Unmarshal(vars.Body, &v); err != nil || !slices.Equal(v.Cmdline, want) || v.Memstats["HeapAlloc"] == nil {
		t.Errorf("vars (%v): cmdline %q, memstats %d keys", err, v.Cmdline, len(v.Memstats))
	}
	for _, body := range [][]byte{cmdline.Body, vars.Body} {
		for _, s := range secrets {
			if strings.Contains(string(body), s) {
				t.Errorf("%q shown: %.300s", s, body)
			}
		}
		for _, kept := range []string{"/srv/fr.balise", "redis://:xxxxx@10.0.0.5:6379/0", "rediss://geo:xxxxx@h:6380", "--admin-token=REDACTED"} {
			if !strings.Contains(string(body), kept) {
				t.Errorf("%q missing: %.300s", kept, body)
			}
		}
	}

	// Without Config.Args, the process's own arguments.
	def := newAdminRig(t, nil)
	if got := strings.Split(string(testutil.Get(t, def.admin+"/debug/pprof/cmdline").Body), "\x00"); !slices.Equal(got, RedactArgs(os.Args)) {
		t.Errorf("default cmdline %q, want %q", got, RedactArgs(os.Args))
	}
}

// pprof's seconds= is capped; the admin http.Server has every timeout,
// the write timeout above the cap.
func TestAdminProfileSecondsAndTimeouts(t *testing.T) {
	r := newAdminRig(t, func(c *Config) { c.ReadHeaderTimeout = 300 * time.Millisecond })
	for _, p := range []string{"/debug/pprof/profile?seconds=61", "/debug/pprof/trace?seconds=1e9", "/debug/pprof/trace?seconds=NaN",
		"/debug/pprof/trace?seconds=%2BInf", "/debug/pprof/heap?seconds=3600", "/debug/pprof/allocs?seconds=60.5"} {
		if rep := testutil.Get(t, r.admin+p); rep.Status != 400 || !strings.Contains(string(rep.Body), "seconds is at most 60") {
			t.Errorf("%s: %d %s; want 400", p, rep.Status, rep.Body)
		}
	}
	if rep := testutil.Get(t, r.admin+"/debug/pprof/trace?seconds=0.05"); rep.Status != 200 || len(rep.Body) == 0 {
		t.Errorf("a short trace: %d, %d bytes", rep.Status, len(rep.Body))
	}
	if n := refusedCount(t, r.url, refusedSeconds); n != 6 {
		t.Errorf("refused for seconds: %v, want 6", n)
	}

	srv := r.srv.adminServer()
	if srv.ReadHeaderTimeout != 300*time.Millisecond || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 ||
		srv.WriteTimeout <= DefaultAdminMaxProfile || srv.MaxHeaderBytes != DefaultConfig().MaxHeaderBytes {
		t.Errorf("admin http.Server: header %v, read %v, write %v, idle %v, max header %d",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
	// A client that never finishes its headers is cut.
	conn, err := net.Dial("tcp", strings.TrimPrefix(r.admin, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /health HTTP/1.1\r\nHost: localhost\r\n")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	io.Copy(io.Discard, conn)
	if d := time.Since(start); d >= 10*time.Second {
		t.Errorf("a slow client kept its connection for %v", d)
	}
}

// A warning when the admin listener is reachable beyond loopback, an
// error when it is so without a token; nothing on loopback.
func TestAdminExposureWarning(t *testing.T) {
	for _, c := range []struct {
		addr  net.Addr
		token string
		want  string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 7879}, "", `"level":"ERROR"`},
		{&net.TCPAddr{IP: net.ParseIP("10.0.0.7"), Port: 7879}, "", `"level":"ERROR"`},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 7879}, "t", `"level":"WARN"`},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7879}, "", ""},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 7879}, "", ""},
		{&net.UnixAddr{Name: "/run/balise/admin.sock", Net: "unix"}, "", ""},
	} {
		var logs testutil.SyncBuffer
		s := &Server{cfg: Config{AdminToken: c.token}, log: slog.New(slog.NewJSONHandler(&logs, nil))}
		s.warnIfAdminExposed(c.addr)
		got := logs.String()
		if c.want == "" && got != "" || c.want != "" && (!strings.Contains(got, c.want) || !strings.Contains(got, "beyond loopback")) {
			t.Errorf("%v (token %q): logged %q, want %s", c.addr, c.token, got, c.want)
		}
		if c.token == "" && c.want != "" && !strings.Contains(got, "WITHOUT a token") {
			t.Errorf("%v: %q does not say there is no token", c.addr, got)
		}
	}
	r := newAdminRig(t, nil)
	testutil.Get(t, r.admin+"/health")
	if strings.Contains(r.logs.String(), "beyond loopback") {
		t.Errorf("a loopback admin listener warned: %s", r.logs)
	}
}

func TestRedactArgs(t *testing.T) {
	cases := map[string][]string{
		"--redis-url redis://:pw@h:6379/0":                   {"--redis-url", "redis://:xxxxx@h:6379/0"},
		"--redis-url=redis://u:pw@h":                         {"--redis-url=redis://u:xxxxx@h"},
		"-redis-url=rediss://u:p@ss@h":                       {"-redis-url=rediss://u:xxxxx@h"},
		"--redis-url redis://tok@h":                          {"--redis-url", "redis://tok@h"}, // a user name alone, as URL.Redacted
		"--admin-token abc":                                  {"--admin-token", "REDACTED"},
		"--admin-token=abc":                                  {"--admin-token=REDACTED"},
		"-API-KEY=abc":                                       {"-API-KEY=REDACTED"},
		"--db-password -dash":                                {"--db-password", "REDACTED"},
		"--client-secret":                                    {"--client-secret"},
		"--token= --index x":                                 {"--token=REDACTED", "--index", "x"},
		"--redis-url u:pw@h:6379":                            {"--redis-url", "u:xxxxx@h:6379"},
		"--redis-url h1:1,u:pw@h2:2":                         {"--redis-url", "h1:xxxxx@h2:2"},
		"--redis-url redis://:a@h1,redis://:b@h2,redis://h3": {"--redis-url", "redis://:xxxxx@h1,redis://:xxxxx@h2,redis://h3"},
		"--url=https://h/p?api_key=k1&x=2&token=t2":          {"--url=https://h/p?api_key=REDACTED&x=2&token=REDACTED"},
		"serve --index /srv/a.balise -- --token":             {"serve", "--index", "/srv/a.balise", "--", "--token"},
		"- -- -=x --=y":                                      {"-", "--", "-=x", "--=y"},
		"--contact=ops@example.org":                          {"--contact=ops@example.org"},
	}
	for in, want := range cases {
		if got := RedactArgs(strings.Fields(in)); !slices.Equal(got, want) {
			t.Errorf("RedactArgs(%q) = %q, want %q", in, got, want)
		}
	}
	if RedactArgs(nil) != nil {
		t.Error("RedactArgs(nil) is not nil")
	}
	// Well-formed URLs come out as URL.Redacted writes them.
	for _, s := range []string{"redis://:pw@h:6379/0", "rediss://user:p%40ss@h:6380/2?protocol=3", "redis://u:pw@[::1]:6379"} {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := RedactArgs([]string{s})[0]; got != u.Redacted() {
			t.Errorf("RedactArgs(%q) = %q, URL.Redacted %q", s, got, u.Redacted())
		}
	}
	in := []string{"--admin-token", "x"}
	RedactArgs(in)
	if in[1] != "x" {
		t.Error("RedactArgs changed its input")
	}
}

var redactCostSample = testutil.NewSample(2000)

// A URL's password never shows, whatever the form the URL is given in;
// no panic; a cost linear in the input.
func FuzzRedactArgs(f *testing.F) {
	f.Add("u", "hunter2", "h:6379", "/0", uint8(0), "serve --index x")
	f.Add("", "p@ss:w/rd?", "[::1]:6380", "", uint8(1), "")
	f.Add("user", "pw,with,commas", "h1", "?db=2", uint8(2), "--token t")
	f.Add("", "=", "h", "/", uint8(3), "redis://:x@y")
	f.Add("a:b", "%41%", "h", "#f", uint8(4), "-")
	f.Fuzz(func(t *testing.T, user, password, host, rest string, form uint8, other string) {
		u := (&url.URL{Scheme: "redis", User: url.UserPassword(user, password), Host: host}).String() + rest
		// The password as it is written in the URL (the user name has its
		// colons escaped).
		_, escaped, _ := strings.Cut(url.UserPassword(user, password).String(), ":")
		_, noScheme, _ := strings.Cut(u, "://")
		forms := [][]string{
			{"--redis-url", u},
			{"--redis-url=" + u},
			{u},
			{"--redis-url=redis://h0:1," + u + ",redis://h9"},
			{"--redis-url", noScheme},
			{"-x=" + noScheme + ",h2:1"},
		}
		args := append(strings.Fields(other), forms[int(form)%len(forms)]...)
		out := strings.Join(RedactArgs(args), "\x00")
		if len(escaped) >= 3 && strings.Contains(out, escaped) {
			rest := strings.Replace(strings.Join(args, "\x00"), escaped, "", 1)
			if !strings.Contains(rest, escaped) && !strings.Contains(escaped, redactedPassword) && !strings.Contains(redactedPassword, escaped) {
				t.Fatalf("password %q shown: %q -> %q", escaped, args, out)
			}
		}
		if redactCostSample.Next() {
			testutil.CheckLinearCost(t, 16, 6, func(k int) {
				big := make([]string, 0, k*len(args))
				for range k {
					big = append(big, args...)
				}
				RedactArgs(big)
				RedactArgs([]string{strings.Repeat(strings.Join(args, ","), k)})
			})
		}
	})
}
