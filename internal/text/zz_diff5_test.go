package text
import ("testing";"os";"strings";"strconv")
func TestDiffFuzzyNgram(t *testing.T){
 data, err := os.ReadFile("/tmp/diff/fz.tsv"); if err != nil { t.Skip() }
 p := NewPipeline(Config{}); pa := NewPipeline(Config{FuzzyAllLetters: true})
 bad := 0
 for _, l := range strings.Split(string(data), "\x1e") {
   f := strings.Split(l, "\x1f")
   switch f[0] {
   case "F":
     if g := strings.Join(p.Fuzzy(f[1]), " "); g != f[2] { bad++; t.Errorf("fuzzy %q", f[1]) }
     if g := strings.Join(pa.Fuzzy(f[1]), " "); g != f[3] { bad++; t.Errorf("fuzzy all %q", f[1]) }
   case "N":
     want, _ := strconv.ParseFloat(f[3], 64)
     if g := NgramCompare(f[1], f[2]); g != want { bad++; if bad < 10 { t.Errorf("ngram %q %q got %v want %v", f[1], f[2], g, want) } }
   }
 }
 t.Logf("bad %d", bad)
}
