package text
import ("testing";"os";"strings";"strconv")
func TestDiffFrance(t *testing.T){
 data, err := os.ReadFile("/tmp/diff/france.tsv"); if err != nil { t.Skip() }
 bad := map[string]int{}
 for _, l := range strings.Split(string(data), "\x1e") {
   f := strings.Split(l, "\x1f")
   q := f[0]
   chk := func(name, got, want string) { if got != want { bad[name]++; if bad[name] < 6 { t.Errorf("%s(%q): got %q want %q", name, q, got, want) } } }
   chk("clean", CleanQuery(q), f[1])
   chk("extract", ExtractAddress(q), f[2])
   chk("rlz", RemoveLeadingZeros(q), f[3])
   toks := strings.Fields(strings.NewReplacer(",", " ", "-", " ").Replace(q))
   for i := range toks { toks[i] = strings.ToLower(toks[i]) }
   chk("glue", strings.Join(GlueOrdinal(toks), " "), f[4])
   var fo []string; for _, x := range toks { fo = append(fo, FoldOrdinal(x)) }
   chk("fold", strings.Join(fo, " "), f[5])
   chk("flag", strconv.Itoa(FlagHousenumber(toks)), f[6])
 }
 t.Logf("bad %v", bad)
}
func TestDiffPhon2(t *testing.T){
 data, err := os.ReadFile("/tmp/diff/phon2.tsv"); if err != nil { t.Skip() }
 bad := 0
 for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
   f := strings.SplitN(l, "\t", 2)
   if got := Phonemicize(f[0]); got != f[1] { bad++; if bad < 20 { t.Errorf("%q: got %q want %q", f[0], got, f[1]) } }
 }
 t.Logf("bad %d", bad)
}
