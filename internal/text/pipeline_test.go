package text

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// Every pattern of addok-france's TYPES with the words it matches, written out by
// hand (not with the expander under test).
var streetTypeWords = map[string][]string{
	`aer(odrome)?`:              {"aer", "aerodrome"},
	`all([ée]es?)?`:             {"all", "allée", "allées", "allee", "allees"},
	`anc(ien(ne)?)?`:            {"anc", "ancien", "ancienne"},
	`av(enue)?`:                 {"av", "avenue"},
	`b(oulevar|l?v?)?d`:         {"bd", "boulevard", "bld", "bvd", "blvd"},
	`b(ou)?cle`:                 {"bcle", "boucle"},
	`ber(ges?)?`:                {"ber", "berge", "berges"},
	`bois`:                      {"bois"},
	`c(en)?tre`:                 {"ctre", "centre"},
	`c(ou)?rs?`:                 {"cr", "crs", "cour", "cours"},
	`c[ôo]te`:                   {"côte", "cote"},
	`carr?(efour)?`:             {"car", "carr", "carefour", "carrefour"},
	`ch(am)?p`:                  {"chp", "champ"},
	`chauss[ée]e`:               {"chaussée", "chaussee"},
	`che?(m(in)?)?`:             {"ch", "che", "chm", "chem", "chmin", "chemin"},
	`cit[ée]`:                   {"cité", "cite"},
	`clos`:                      {"clos"},
	`desserte`:                  {"desserte"},
	`devi(ation)?`:              {"devi", "deviation"},
	`dig(ue)?`:                  {"dig", "digue"},
	`dom(aine)?`:                {"dom", "domaine"},
	`embr(anchement)?`:          {"embr", "embranchement"},
	`espl?(anade)?`:             {"esp", "espl", "espanade", "esplanade"},
	`eta?ng`:                    {"etng", "etang"},
	`éta?ng`:                    {"étng", "étang"},
	`f(aubour|b|bour)?g`:        {"fg", "faubourg", "fbg", "fbourg"},
	`giratoire`:                 {"giratoire"},
	`gr(ande?)?`:                {"gr", "grand", "grande"},
	`gr(e|es|s)?`:               {"gr", "gre", "gres", "grs"},
	`ham(eau)?`:                 {"ham", "hameau"},
	`imp(asse)?`:                {"imp", "impasse"},
	`j[ée]?t[ée]e`:              {"jtée", "jtee", "jétée", "jétee", "jetée", "jetee"},
	`jard(in)?`:                 {"jard", "jardin"},
	`l[ôo]t(issement)?`:         {"lôt", "lot", "lôtissement", "lotissement"},
	`mont`:                      {"mont"},
	`mont[ée]e`:                 {"montée", "montee"},
	`p(arvis|rvs?|vr)?`:         {"p", "parvis", "prv", "prvs", "pvr"},
	`p(asserel|l)?le`:           {"ple", "passerelle", "plle"},
	`p(lace)?tte`:               {"ptte", "placette"},
	`p(or)?te`:                  {"pte", "porte"},
	`parc`:                      {"parc"},
	`pas(se)?`:                  {"pas", "passe"},
	`pass(age)?`:                {"pass", "passage"},
	`pl(ace)?`:                  {"pl", "place"},
	`porte`:                     {"porte"},
	`pr[ée]`:                    {"pré", "pre"},
	`pro?m(enade)?`:             {"prm", "prom", "prmenade", "promenade"},
	`q(uart(ier)?|ua|rt(ier)?)`: {"quart", "quartier", "qua", "qrt", "qrtier"},
	`qu?(ai)?`:                  {"q", "qu", "qai", "quai"},
	`r(ou)?te`:                  {"rte", "route"},
	`r(uel|l)?le`:               {"rle", "ruelle", "rlle"},
	`r(ue)?`:                    {"r", "rue"},
	`r[ée]s(idence)?`:           {"rés", "res", "résidence", "residence"},
	`rd?pt`:                     {"rpt", "rdpt"},
	`rocade`:                    {"rocade"},
	`rond[- ]point`:             {"rond-point", "rond point"},
	`sent(e|ier)`:               {"sente", "sentier"},
	`squ?(are)?`:                {"sq", "squ", "sqare", "square"},
	`t(erra)?sse`:               {"tsse", "terrasse"},
	`taillis`:                   {"taillis"},
	`trav(erse)?`:               {"trav", "traverse"},
	`tunn?(el)?`:                {"tun", "tunn", "tunel", "tunnel"},
	`v(il|l)?la`:                {"vla", "villa", "vlla"},
	`via`:                       {"via"},
	`viad(uc)?`:                 {"viad", "viaduc"},
	`voie`:                      {"voie"},
	`[îi]lot`:                   {"îlot", "ilot"},
}

func TestStreetTypes(t *testing.T) {
	if len(streetTypeWords) != len(streetTypes) {
		t.Fatalf("%d patterns listed here, %d in the package", len(streetTypeWords), len(streetTypes))
	}
	for _, pat := range streetTypes {
		words, ok := streetTypeWords[pat]
		if !ok {
			t.Errorf("pattern %q has no expected words", pat)
			continue
		}
		t.Run(pat, func(t *testing.T) {
			got := expandFinite(pat)
			if !sameSet(got, words) {
				t.Errorf("expands to %q, want %q", got, words)
			}
			for _, w := range words {
				r := []rune(w)
				for _, v := range []string{w, strings.ToUpper(w), strings.ToUpper(string(r[:1])) + string(r[1:])} {
					if !strings.Contains(v, " ") && !IsStreetType(v) {
						t.Errorf("IsStreetType(%q) = false", v)
					}
					// A number before a type is flagged even when not first.
					if !strings.Contains(v, " ") {
						if got := FlagHousenumber([]string{"x", "12", v, "y"}); got != 1 {
							t.Errorf("FlagHousenumber(x 12 %s y) = %d", v, got)
						}
					}
					q := "foo 12 " + v + " bar"
					if got := ExtractAddress(q); got != "12 "+v+" bar" {
						t.Errorf("ExtractAddress(%q) = %q", q, got)
					}
				}
			}
		})
	}
	for _, w := range []string{"de", "des", "du", "la", "terreaux", "mai", "rues", "ru", "avenu", "boulevar", "b", "c", "", "bisrue"} {
		if IsStreetType(w) {
			t.Errorf("IsStreetType(%q) = true", w)
		}
	}
	// TYPES_PATTERN.match only needs a word boundary after the type.
	if !IsStreetType("rue/x") || IsStreetType("ruex") {
		t.Error("word boundary after the type")
	}
}

func sameSet(a, b []string) bool {
	x := slices.Clone(a)
	y := slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func TestSynonymExpansion(t *testing.T) {
	for _, c := range [][2]string{
		{"bd st germain", "boulevar@0 sain@1 jermain@2*"},
		{"av foch", "avenu@0 fok@1*"},
		{"18e arrondissement", "dix(hn)@0 uitiem(hn)@0 arondisemen@1*"}, // 18e reads as number 18, letter e,
		{"xviii", "dix@0 ui@0*"},
		{"rue louis xiv", "ru@0 loui@1 katorz@2*"},
		{"cr des vignes", "kour@0 de@1 vign@2*"}, // the later "cou,cr => cour" line wins
		{"hlm", "abitation@0 a@0 loier@0 moder@0*"},
		{"1er mai", "premier@0 mai@1*"},
		{"1 rue x", "un(hn)@0 ru@1 dix@2*"},
		{"zac", "zon@0 amenajemen@0 konsert@0*"},
	} {
		t.Run(c[0], func(t *testing.T) {
			if _, toks := french.Query(c[0]); tokensString(toks) != c[1] {
				t.Errorf("Query(%q) = %s, want %s", c[0], tokensString(toks), c[1])
			}
		})
	}
	t.Run("default profile has none", func(t *testing.T) {
		_, toks := NewPipeline(Config{}).Query("bd st germain")
		if got := tokensString(toks); got != "bd@0 st@1 germain@2*" {
			t.Errorf("got %s", got)
		}
	})
	t.Run("given synonyms", func(t *testing.T) {
		p := NewPipeline(Config{Synonyms: map[string][]string{"bd": {"boulevard"}, "zi": {"zone industrielle"}}})
		if _, toks := p.Query("bd zi"); tokensString(toks) != "boulevard@0 zone@1 industrielle@1*" {
			t.Errorf("got %s", tokensString(toks))
		}
	})
	t.Run("empty map disables the French file", func(t *testing.T) {
		p := NewPipeline(Config{Profile: ProfileFrench, Synonyms: map[string][]string{}})
		// No synonym, so bd is phonemicised as a word (final d dropped).
		if _, toks := p.Query("bd"); tokensString(toks) != "b@0*" {
			t.Errorf("got %s", tokensString(toks))
		}
	})
	t.Run("file size", func(t *testing.T) {
		if n := len(FrenchSynonyms()); n != 362 {
			t.Errorf("%d synonyms parsed, want 362", n)
		}
	})
}

func TestRealisticQueries(t *testing.T) {
	for _, c := range []struct{ q, folded, toks string }{
		{"10 bis rue des sapins", "10 bis rue des sapins", "10b(hn)@0 ru@2 de@3 sapin@4*"},
		{"18 rue du 8 mai", "18 rue du 8 mai", "dix(hn)@0 ui(hn)@0 ru@1 du@2 ui@3 mai@4*"},
		{"champs elysees", "champs elysees", "chan@0 elize@1*"},
		{"Champs-Élysées", "champs elysees", "chan@0 elize@1*"},
		// Query processors run on the folded string: cedex goes, the
		// department of the postcode stays.
		{"2 allée Jules Guesde 31068 TOULOUSE CEDEX 7", "2 allee jules guesde 31068 toulouse cedex 7",
			"deu(hn)@0 ale@1 jul@2 gesd@3 31@4 toulouz@5*"},
		{"bd st germain", "bd st germain", "boulevar@0 sain@1 jermain@2*"},
		{"10 Rue des Sapins Pouembout", "10 rue des sapins pouembout", "dix(hn)@0 ru@1 de@2 sapin@3 pouenbou@4*"},
		{"Immeuble Plein-Centre 60, avenue du Centre 78180 Montigny", "immeuble plein centre 60 avenue du centre 78180 montigny",
			"60(hn)@0 avenu@1 du@2 sentr@3 78180@4 montigni@5*"},
		{"0003 rue x", "0003 rue x", "troi(hn)@0 ru@1 dix@2*"},
		{"rue du 8 mai troyes", "rue du 8 mai troyes", "ru@0 du@1 ui@2 mai@3 troi@4*"},
		{"chateau blanc 7", "chateau blanc 7", "chateau@0 blan@1 sep@2*"},
		{"", "", ""},
		{"  ,;  ", "", ""},
		{"./.$*", "", ""},
	} {
		t.Run(c.q, func(t *testing.T) {
			folded, toks := french.Query(c.q)
			if folded != c.folded {
				t.Errorf("folded = %q, want %q", folded, c.folded)
			}
			if got := tokensString(toks); got != c.toks {
				t.Errorf("tokens = %s, want %s", got, c.toks)
			}
		})
	}
}

func TestDefaultProfile(t *testing.T) {
	p := NewPipeline(Config{})
	if p.Profile() != ProfileDefault || french.Profile() != ProfileFrench {
		t.Fatal("Profile()")
	}
	for _, c := range [][2]string{
		{"11 rue des berges", "11(hn)@0 rue@1 des@2 berges@3*"},
		{"rue 1814", "rue@0 1814@1*"},
		{"8 rue 1814", "8(hn)@0 rue@1 1814@2*"},
		{"3bis rue x", "3bis@0 rue@1 x@2*"},
		{"Andrésy", "andresy@0*"},
	} {
		if _, toks := p.Query(c[0]); tokensString(toks) != c[1] {
			t.Errorf("Query(%q) = %s, want %s", c[0], tokensString(toks), c[1])
		}
	}
	if got := p.Index("Rue de l'Église"); !slices.Equal(got, []string{"rue", "de", "l", "eglise"}) {
		t.Errorf("Index = %q", got)
	}
}

func TestIndexKeepsDuplicatesAndHousenumbers(t *testing.T) {
	if got := french.Index("8 rue du 8 mai"); !slices.Equal(got, []string{"ui", "ru", "du", "ui", "mai"}) {
		t.Errorf("Index = %q", got)
	}
	// Unidecode can put spaces and punctuation inside a token; Addok's
	// synonymize then splits it.
	if got := french.Index("½ lieue"); !slices.Equal(got, []string{"1/2", "lieu"}) {
		t.Errorf("Index(½ lieue) = %q", got)
	}
	if got := french.Index(""); len(got) != 0 {
		t.Errorf("Index(\"\") = %q", got)
	}
}

func TestASCII(t *testing.T) {
	for _, c := range [][2]string{
		{"Rue d'Andrésy", "rue d andresy"},
		{"  Champs-Élysées  ", "champs elysees"},
		{"rue  des   lilas", "rue des lilas"},
		{"10 rue des sapins", "10 rue des sapins"},
		{"snake_case", "snake_case"},
		{"Œuvre", "oeuvre"},
		{"中文", "Zhong Wen"}, // unidecode's capitals are not lowered again, as in Addok
		{"a\x7fb", "a b"},
		{"", ""},
	} {
		if got := ASCII(c[0]); got != c[1] {
			t.Errorf("ASCII(%q) = %q, want %q", c[0], got, c[1])
		}
	}
}

func TestIsAllDigits(t *testing.T) {
	for s, want := range map[string]bool{"": false, "12": true, "1a": false, "²": true, "١٢": true, "½": false, "①": true, " 1": false} {
		if got := IsAllDigits(s); got != want {
			t.Errorf("IsAllDigits(%q) = %v", s, got)
		}
	}
}

// naiveNgram is the definition: bigram multisets compared by counting.
func naiveNgram(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 1 && len(rb) == 1 {
		if ra[0] == rb[0] {
			return 1
		}
		return 0
	}
	count := map[[2]rune]int{}
	na, nb := 0, 0
	for i := 0; i+1 < len(ra); i++ {
		count[[2]rune{ra[i], ra[i+1]}]++
		na++
	}
	shared := 0
	for i := 0; i+1 < len(rb); i++ {
		nb++
		k := [2]rune{rb[i], rb[i+1]}
		if count[k] > 0 {
			count[k]--
			shared++
		}
	}
	if shared == 0 {
		return 0
	}
	return float64(shared) / float64(na+nb-shared)
}

func TestNgramCompare(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"rue des lilas", "rue des lilas", 1},
		{"a", "a", 1},
		{"a", "b", 0},
		{"a", "ab", 0},
		{"", "", 0},
		{"ab", "ab", 1},
		{"abc", "xyz", 0},
		// 12 bigrams shared out of 12 + 24.
		{"rue des lilas", "rue des lilas 75019 paris", 12.0 / 24},
		{"aaaa", "aa", 1.0 / 3},
	} {
		if got := NgramCompare(c.a, c.b); got != c.want {
			t.Errorf("NgramCompare(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("ab é")
	gen := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for i := range 5000 {
		la, lb := r.IntN(40), r.IntN(40)
		if i%50 == 0 {
			la, lb = 90+r.IntN(200), r.IntN(300) // past the stack table
		}
		a, b := gen(la), gen(lb)
		if i%2 == 0 {
			a = strings.ReplaceAll(a, "é", "e") // ASCII path
			b = strings.ReplaceAll(b, "é", "e")
		}
		got, want := NgramCompare(a, b), naiveNgram(a, b)
		if got != want {
			t.Fatalf("NgramCompare(%q, %q) = %v, want %v", a, b, got, want)
		}
		if rev := NgramCompare(b, a); rev != got {
			t.Fatalf("not symmetric on %q, %q: %v vs %v", a, b, got, rev)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	queries := []string{"10 bis rue des sapins", "18 rue du 8 mai", "2 allée Jules Guesde 31068 TOULOUSE CEDEX 7", "bd st germain", "champs elysees"}
	want := make([]string, len(queries))
	for i, q := range queries {
		_, toks := french.Query(q)
		want[i] = tokensString(toks)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				k := (i + g) % len(queries)
				if _, toks := french.Query(queries[k]); tokensString(toks) != want[k] {
					t.Errorf("concurrent Query(%q) = %s", queries[k], tokensString(toks))
					return
				}
				french.Fuzzy("sapin")
				french.Index(queries[k])
			}
		})
	}
	wg.Wait()
}

func TestOutputsAreValidUTF8(t *testing.T) {
	for _, s := range []string{"\xff\xfe rue", "a\xc3", "日本 1 rue"} {
		folded, toks := french.Query(s)
		if !utf8.ValidString(folded) {
			t.Errorf("folded %q", folded)
		}
		for _, tk := range toks {
			if !utf8.ValidString(tk.Value) || tk.Value == "" {
				t.Errorf("token %q of %q", tk.Value, s)
			}
		}
	}
}
