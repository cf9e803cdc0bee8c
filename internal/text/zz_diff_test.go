package text
import ("testing";"os";"strings")
func TestDiffPhon(t *testing.T){
 data, err := os.ReadFile("/tmp/diff/phon.tsv"); if err != nil { t.Skip() }
 bad := 0
 for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
   f := strings.SplitN(l, "\t", 2)
   if got := Phonemicize(f[0]); got != f[1] { bad++; if bad < 20 { t.Errorf("%q: got %q want %q", f[0], got, f[1]) } }
 }
 t.Logf("bad %d", bad)
}
