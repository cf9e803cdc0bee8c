package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGeocodeCommand(t *testing.T) {
	idx := banIndex(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "adresses.csv")
	content := "nom;adresse;insee\nA;10 rue des sapins;98825\nB;10 rue des sapins;98825\nC;zzzz qqqq;\nD;;\nE;pouembout;\n"
	if err := os.WriteFile(in, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), []string{"geocode", "--index", idx, "--columns", "adresse", "--citycode", "insee", in}, Env{Stdout: &stdout, Stderr: &stderr})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out, err := os.ReadFile(filepath.Join(dir, "adresses.geocoded.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(out), "\r\n")
	if !strings.HasPrefix(lines[1], "A;10 rue des sapins;98825;-21.120919;164.900792;10 Rue des Sapins Pouembout;") || !strings.HasSuffix(lines[3], ";not-found") || !strings.HasSuffix(lines[4], ";skipped") {
		t.Errorf("%q", out)
	}
	sum := stderr.String()
	for _, want := range []string{"geocoded 5 rows", "matched              3", "not found            1", "skipped              1", "duplicates           1", "scores      min", "types       housenumber 2 (66.7%), municipality 1 (33.3%)"} {
		if !strings.Contains(sum, want) {
			t.Errorf("no %q in summary:\n%s", want, sum)
		}
	}
	// Errors: a missing column is reported, nothing is written.
	stderr.Reset()
	out2 := filepath.Join(dir, "out.csv")
	if code := Run(context.Background(), []string{"geocode", "--index", idx, "--columns", "nope", "-o", out2, in}, Env{Stdout: &stdout, Stderr: &stderr}); code != 1 || !strings.Contains(stderr.String(), "Cannot found column 'nope'") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(out2); err == nil {
		t.Error("output written despite the error")
	}
	// Standard input to standard output, reverse, quiet.
	stdout.Reset()
	stderr.Reset()
	code = Run(context.Background(), []string{"geocode", "--index", idx, "--reverse", "--quiet", "-"}, Env{Stdin: strings.NewReader("lat,lon\n-21.120919,164.900792\n"), Stdout: &stdout, Stderr: &stderr})
	if code != 0 || !strings.Contains(stdout.String(), ",10 Rue des Sapins Pouembout,0,housenumber,") || stderr.Len() != 0 {
		t.Errorf("exit %d: %q %q", code, stdout.String(), stderr.String())
	}
}

// An oversized record is skipped with its line number in the summary, the
// rest of the file is geocoded, and formulas can be escaped.
func TestGeocodeOversizedRecordAndFormulas(t *testing.T) {
	idx := banIndex(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	content := "nom;adresse\n=HYPERLINK(\"x\");10 rue des sapins pouembout\nB;" + strings.Repeat("x", 5000) + "\nC;-21.12\n"
	if err := os.WriteFile(in, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), []string{"geocode", "--index", idx, "--columns", "adresse", "--max-record-size", "1KiB",
		"--csv-escape-formulas", "-o", "-", in}, Env{Stdout: &stdout, Stderr: &stderr})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(stdout.String(), "\r\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[1], `"'=HYPERLINK`) || !strings.HasSuffix(lines[2], ";error") || !strings.HasPrefix(lines[3], "C;-21.12;") {
		t.Errorf("output %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "line 3: record larger than 1 KiB") {
		t.Errorf("summary:\n%s", stderr.String())
	}
}
