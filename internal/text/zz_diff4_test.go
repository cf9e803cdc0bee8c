package text
import ("testing";"os";"strings";"fmt")
func TestDiffPipe(t *testing.T){
 data, err := os.ReadFile("/tmp/diff/pipe.tsv"); if err != nil { t.Skip() }
 p := NewPipeline(Config{Profile: ProfileFrench})
 bad := map[string]int{}
 for _, l := range strings.Split(string(data), "\x1e") {
   f := strings.Split(l, "\x1f")
   q := f[0]
   chk := func(name, got, want string) { if got != want { bad[name]++; if bad[name] < 8 { t.Errorf("%s(%q): got %q want %q", name, q, got, want) } } }
   folded, toks := p.Query(q)
   chk("folded", folded, f[1])
   var parts []string
   for _, tk := range toks { k := "w"; if tk.Kind == KindHousenumber { k = "h" }; parts = append(parts, fmt.Sprintf("%s:%d:%s", tk.Value, tk.Position, k)) }
   chk("query", strings.Join(parts, " "), f[2])
   chk("index", strings.Join(p.Index(q), " "), f[3])
 }
 t.Logf("bad %v", bad)
}
