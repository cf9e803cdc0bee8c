package text
import ("testing";"os";"strings";"strconv";"unicode";"fmt")
func TestDiffChars(t *testing.T){
 data, err := os.ReadFile("/tmp/diff/chars.tsv"); if err != nil { t.Skip() }
 bad := map[string]int{}
 ex := map[string][]string{}
 for _, l := range strings.Split(string(data), "\x1e") {
   f := strings.Split(l, "\x1f")
   cp, _ := strconv.ParseUint(f[0], 16, 32); r := rune(cp); s := string(r)
   chk := func(name, got, want string) { if got != want { bad[name]++; if len(ex[name]) < 12 { ex[name] = append(ex[name], fmt.Sprintf("%U %q got %q want %q", r, s, got, want)) } } }
   chk("fold", Fold(s), f[1])
   chk("raw", unidecodeRune(r), f[4])
   w := "0"; if isWordRune(r) { w = "1" }
   chk("word", w, f[2])
   d := "0"; if IsAllDigits(s) { d = "1" }
   chk("digit", d, f[3])
   _ = unicode.IsLetter
 }
 t.Logf("bad %v", bad)
 for k, v := range ex { t.Logf("%s: %v", k, strings.Join(v, "\n   ")) }
}
