package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run executes balise in process and returns its exit code and output.
func run(t *testing.T, stdin string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return env[k] },
	})
	return code, out.String(), errb.String()
}

const goodLine = `{"id":"75101_1929","type":"street","name":"Place du Châtelet","postcode":"75001","citycode":"75101","city":"Paris","lat":48.85759,"lon":2.346934,"importance":0.48,"housenumbers":{"1":{"id":"75101_1929_00001","lat":48.857614,"lon":2.346758}}}`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImportReportsMalformedLinesAndSkipsThem(t *testing.T) {
	in := writeFile(t, "in.ndjson", goodLine+"\n\n{not json\n"+strings.Replace(goodLine, "75101_1929", "other", 1)+"\n")
	out := filepath.Join(t.TempDir(), "x.balise")
	code, stdout, stderr := run(t, "", nil, "import", "-quiet", "-o", out, in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "in.ndjson:3:") {
		t.Errorf("the malformed line is not reported with its number: %q", stderr)
	}
	if !strings.Contains(stdout, "2 documents, 2 housenumbers") || !strings.Contains(stdout, "1 malformed lines skipped") {
		t.Errorf("summary: %q", stdout)
	}
	code, _, stderr = run(t, "", nil, "import", "-quiet", "--strict", "-o", filepath.Join(t.TempDir(), "y.balise"), in)
	if code == 0 || !strings.Contains(stderr, "in.ndjson:3:") {
		t.Errorf("--strict: exit %d, %q", code, stderr)
	}
	// Nothing half-written is left behind on failure.
	entries, _ := os.ReadDir(filepath.Dir(out))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestImportBANCSVAndQuery(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ban.balise")
	code, stdout, stderr := run(t, "", nil, "import", "-quiet", "-o", out, filepath.Join("..", "ban", "testdata", "ban-tiny.csv"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "documents") {
		t.Fatalf("summary: %q", stdout)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("index file mode: %v %v (a server running as another user must read it)", fi.Mode(), err)
	}
	code, stdout, stderr = run(t, "", nil, "search", "--index", out, "--limit", "1", "1 place du chatelet paris")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var fc struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
		Attribution string `json:"attribution"`
	}
	if err := json.Unmarshal([]byte(stdout), &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 1 || fc.Features[0].Properties["housenumber"] != "1" || fc.Attribution != "BAN" {
		t.Errorf("got %s", stdout)
	}
}

func TestSearchStdinOneAnswerPerLine(t *testing.T) {
	in := writeFile(t, "in.ndjson", goodLine+"\n")
	idx := filepath.Join(t.TempDir(), "x.balise")
	if code, _, stderr := run(t, "", nil, "import", "-quiet", "-o", idx, in); code != 0 {
		t.Fatal(stderr)
	}
	// The index can also come from the environment.
	code, stdout, stderr := run(t, "place du chatelet\n1 place du chatelet\n"+strings.Repeat("x", 300)+"\n", map[string]string{"BALISE_INDEX": idx}, "search", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %q", len(lines), stdout)
	}
	if !strings.Contains(lines[1], `"housenumber":"1"`) || !strings.Contains(lines[2], `"error":"Query too long`) {
		t.Errorf("got %q", lines)
	}
	code, stdout, _ = run(t, "", nil, "reverse", "--index", idx, "--lat", "48.857614", "--lon", "2.346758")
	if code != 0 || !strings.Contains(stdout, `"distance":0`) {
		t.Errorf("reverse: %d %s", code, stdout)
	}
	code, stdout, _ = run(t, "", nil, "verify", idx)
	if code != 0 || !strings.Contains(stdout, "OK") {
		t.Errorf("verify: %d %s", code, stdout)
	}
	if code, _, _ := run(t, "", nil, "search", "--index", idx, "--limit", "0", "x"); code != 2 {
		t.Errorf("bad limit: exit %d", code)
	}
	if code, _, _ := run(t, "", nil, "nope"); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
	bad := writeFile(t, "bad.balise", "not an index at all, not at all, not at all, not at all, not at all")
	if code, _, stderr := run(t, "", nil, "search", "--index", bad, "x"); code != 1 || !strings.Contains(stderr, "corrupt") {
		t.Errorf("corrupt index: exit %d %q", code, stderr)
	}
}
