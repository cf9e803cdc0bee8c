package layout

import (
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "balise"

// never lists, per package, the imports it must not reach, directly or
// through another package of the module (doc.go gives the reasons).
var never = map[string][]string{
	"balise/internal/text":   {"balise/internal/index"},
	"balise/internal/index":  {"balise/internal/search"},
	"balise/internal/search": {"net/http", "balise/internal/httpapi", "balise/internal/cache", "balise/internal/telemetry"},
	"balise/internal/source": {"balise/internal/index"},
	"balise/internal/ban":    {"balise/internal/index"},
}

// leaves import nothing of balise.
var leaves = []string{
	"balise/internal/geo",
	"balise/internal/pyjs",
	"balise/internal/text",
	"balise/internal/progress",
	"balise/internal/memlimit",
	"balise/internal/admission",
	"balise/internal/ratelimit",
	"balise/internal/cache",
	"balise/internal/telemetry",
}

func TestImportRules(t *testing.T) {
	graph := readGraph(t, filepath.Join("..", ".."))
	for _, p := range append(slices.Sorted(maps.Keys(never)), leaves...) {
		if _, ok := graph[p]; !ok {
			t.Errorf("%s: no such package (a rule names a package that moved: update the rules)", p)
		}
	}
	for _, msg := range violations(graph, never, leaves) {
		t.Error(msg)
	}
}

// TestImportRulesCatchViolations plants violations in a copy of the graph:
// a direct one, one reached through another package, and a leaf importing
// balise, and checks each is reported.
func TestImportRulesCatchViolations(t *testing.T) {
	graph := map[string][]string{
		"balise/internal/text":   {"strings", "balise/internal/index"},
		"balise/internal/index":  {"balise/internal/geo"},
		"balise/internal/geo":    {"math", "net/http/httptrace"},
		"balise/internal/search": {"balise/internal/index"},
	}
	got := strings.Join(violations(graph, never, []string{"balise/internal/geo", "balise/internal/text"}), "\n")
	for _, want := range []string{
		"balise/internal/text reaches balise/internal/index: balise/internal/text imports balise/internal/index",
		"balise/internal/search reaches net/http: balise/internal/search → balise/internal/index → balise/internal/geo imports net/http/httptrace",
		"leaf balise/internal/text imports balise/internal/index",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("not reported: %s\nreported:\n%s", want, got)
		}
	}
	if strings.Contains(got, "leaf balise/internal/geo") {
		t.Errorf("geo imports nothing of balise:\n%s", got)
	}
}

// violations checks the rules against graph (package → its imports).
func violations(graph map[string][]string, never map[string][]string, leaves []string) []string {
	var out []string
	for _, p := range slices.Sorted(maps.Keys(never)) {
		for _, forbidden := range never[p] {
			if chain, imp, ok := reach(graph, p, forbidden); ok {
				out = append(out, p+" reaches "+forbidden+": "+strings.Join(chain, " → ")+" imports "+imp)
			}
		}
	}
	for _, p := range leaves {
		for _, imp := range graph[p] {
			if inModule(imp) {
				out = append(out, "leaf "+p+" imports "+imp)
			}
		}
	}
	return out
}

// reach finds a chain of module packages from p to one importing forbidden
// or a package under it (net/http covers net/http/httptest).
func reach(graph map[string][]string, p, forbidden string) (chain []string, imp string, ok bool) {
	seen := map[string]bool{}
	var walk func(q string, chain []string) ([]string, string, bool)
	walk = func(q string, chain []string) ([]string, string, bool) {
		if seen[q] {
			return nil, "", false
		}
		seen[q] = true
		chain = append(chain, q)
		for _, i := range graph[q] {
			if i == forbidden || strings.HasPrefix(i, forbidden+"/") {
				return chain, i, true
			}
		}
		for _, i := range graph[q] {
			if inModule(i) {
				if c, imp, ok := walk(i, chain); ok {
					return c, imp, true
				}
			}
		}
		return nil, "", false
	}
	return walk(p, nil)
}

func inModule(p string) bool { return p == module || strings.HasPrefix(p, module+"/") }

// readGraph maps every package of the module under root to the imports of
// its non-test files. Directories holding another module (their own
// go.mod), testdata and hidden directories are not part of it.
func readGraph(t *testing.T, root string) map[string][]string {
	t.Helper()
	graph := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := path.Join(module, filepath.ToSlash(filepath.Dir(rel)))
		if _, ok := graph[pkg]; !ok {
			graph[pkg] = nil
		}
		for _, s := range f.Imports {
			imp, err := strconv.Unquote(s.Path.Value)
			if err != nil {
				return err
			}
			if !slices.Contains(graph[pkg], imp) {
				graph[pkg] = append(graph[pkg], imp)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(graph) < 10 {
		t.Fatalf("only %d packages under %s: wrong root?", len(graph), root)
	}
	return graph
}
