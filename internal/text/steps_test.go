package text

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// Ports of Addok's text tests (addok's tests/test_text_utils.py, addok-fr's
// and addok-france's tests), named after the step they check.

var french = NewPipeline(Config{Profile: ProfileFrench})

func TestTokenize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"one two three", []string{"one", "two", "three"}},
		{"presqu'ile", []string{"presqu", "ile"}},
		{"22, rue", []string{"22", "rue"}},
		{"", nil},
		{"é\u0301t_é", []string{"é", "t_é"}}, // a combining mark splits words
	} {
		t.Run(c.in, func(t *testing.T) {
			if got := Tokenize(c.in); !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
				t.Errorf("Tokenize(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	for _, c := range [][2]string{
		{"ABCDEF", "abcdef"},
		{"éêàù", "eeau"},
		{"Étretat", "etretat"},
		{"Erispœ", "erispoe"},
		{"Æsir", "aesir"},
		{"Straße", "strasse"},
		{"œ", "oe"},
	} {
		t.Run(c[0], func(t *testing.T) {
			if got := Fold(c[0]); got != c[1] {
				t.Errorf("Fold(%q) = %q, want %q", c[0], got, c[1])
			}
			// The index pipeline normalises each token the same way.
			if got := strings.Join(NewPipeline(Config{}).Index(c[0]), " "); got != c[1] {
				t.Errorf("Index(%q) = %q, want %q", c[0], got, c[1])
			}
		})
	}
}

func TestAlphanumerize(t *testing.T) {
	for _, c := range [][2]string{
		{"rue d'Andrésy", "rue d Andrésy"},
		{"a   ", "a"},
		{"(défibrillateur)", "défibrillateur"},
		{"machin (défibrillateur)", "machin défibrillateur"},
	} {
		t.Run(c[0], func(t *testing.T) {
			if got := Alphanumerize(c[0]); got != c[1] {
				t.Errorf("Alphanumerize(%q) = %q, want %q", c[0], got, c[1])
			}
		})
	}
}

func TestEdgeNgrams(t *testing.T) {
	for _, c := range []struct {
		name     string
		word     string
		min, max int
		want     []string
	}{
		{"vanbrechi", "vanbrechi", 3, 20, []string{"van", "vanb", "vanbr", "vanbre", "vanbrec", "vanbrech"}},
		{"min1", "abcd", 1, 20, []string{"a", "ab", "abc"}},
		{"max5", "abcdefghijklmn", 3, 5, []string{"abc", "abcd", "abcde"}},
		{"short", "ab", 3, 20, nil},
		{"runes", "élysées", 3, 20, []string{"ély", "élys", "élysé", "élysée"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := EdgeNgrams(c.word, c.min, c.max); !slices.Equal(got, c.want) {
				t.Errorf("EdgeNgrams(%q, %d, %d) = %q, want %q", c.word, c.min, c.max, got, c.want)
			}
		})
	}
}

func TestFuzzy(t *testing.T) {
	p := NewPipeline(Config{})
	t.Run("mot", func(t *testing.T) {
		got := p.Fuzzy("mot")
		// Transpositions first, in order.
		if !slices.Equal(got[:2], []string{"omt", "mto"}) {
			t.Errorf("transpositions = %q", got[:2])
		}
		// Then keyboard substitutions: m -> lpu, o -> iaklp, t -> rfgy.
		wantSubs := []string{"lot", "pot", "uot", "mit", "mat", "mkt", "mlt", "mpt", "mor", "mof", "mog", "moy"}
		if !slices.Equal(got[2:2+len(wantSubs)], wantSubs) {
			t.Errorf("substitutions = %q, want %q", got[2:2+len(wantSubs)], wantSubs)
		}
		// Then the 26x4 insertions less the 3 repeats (mmot, moot, mott
		// twice each), and no deletion.
		ins := got[2+len(wantSubs):]
		if len(ins) != 26*4-3 {
			t.Errorf("%d insertions, want %d", len(ins), 26*4-3)
		}
		for _, w := range ins {
			if len(w) != 4 {
				t.Errorf("unexpected neighbour %q after the insertions", w)
			}
		}
		if ins[0] != "amot" || ins[3] != "mota" || ins[len(ins)-1] != "motz" {
			t.Errorf("insertion order: %q ... %q", ins[:4], ins[len(ins)-1])
		}
	})
	t.Run("train", func(t *testing.T) {
		got := p.Fuzzy("train")
		for _, w := range []string{"rain", "tain", "trin", "tran", "trai"} {
			if !slices.Contains(got, w) {
				t.Errorf("missing deletion %q", w)
			}
		}
		if got[len(got)-1] != "trai" {
			t.Errorf("deletions come last: %q", got[len(got)-5:])
		}
	})
	t.Run("digits", func(t *testing.T) {
		if got := p.Fuzzy("1234"); got != nil {
			t.Errorf("Fuzzy(1234) = %q, want none", got)
		}
	})
	t.Run("dedup", func(t *testing.T) {
		got := p.Fuzzy("allee")
		seen := map[string]bool{}
		for _, w := range got {
			if seen[w] {
				t.Errorf("duplicate %q", w)
			}
			seen[w] = true
		}
		// Transposing the two l gives the word itself, which Addok keeps.
		if got[1] != "allee" {
			t.Errorf("got[1] = %q, want the word itself", got[1])
		}
	})
	t.Run("allLetters", func(t *testing.T) {
		all := NewPipeline(Config{FuzzyAllLetters: true}).Fuzzy("ab")
		// 1 transposition, 25*2 substitutions (letter-major), 26*3
		// insertions minus repeats (a before/after a, b before/after b).
		if all[0] != "ba" || all[1] != "aa" || all[2] != "bb" || all[3] != "cb" {
			t.Errorf("order: %q", all[:4])
		}
		if len(all) != 1+50+78-2 {
			t.Errorf("len = %d", len(all))
		}
	})
	t.Run("customMap", func(t *testing.T) {
		got := NewPipeline(Config{FuzzyKeyMap: map[rune]string{'a': "ba"}}).Fuzzy("ab")
		// a -> b, then "a" differs from the "b" just put: the word itself.
		if !slices.Equal(got[:3], []string{"ba", "bb", "ab"}) {
			t.Errorf("got %q", got[:3])
		}
	})
}

func TestCompareStr(t *testing.T) {
	for _, c := range [][2]string{
		{"Lille", "lille"},
		{"Andrésy", "andresy"},
		{"Y", "y"},
		{"Ay", "ay"},
	} {
		t.Run(c[0], func(t *testing.T) {
			if got := CompareStr(c[0], c[1]); math.Abs(got-1) > 1e-12 {
				t.Errorf("CompareStr(%q, %q) = %v, want 1", c[0], c[1], got)
			}
			if got := NgramCompare(ASCII(c[0]), ASCII(c[1])); got != 1 {
				t.Errorf("NgramCompare(%q, %q) = %v, want 1", c[0], c[1], got)
			}
		})
	}
	if got := CompareStr("rue des lilas", "rue des lilos"); got >= 1 || got <= 0.5 {
		t.Errorf("CompareStr of close strings = %v", got)
	}
}

func TestFoldedComparisons(t *testing.T) {
	t.Run("contains", func(t *testing.T) {
		if !strings.Contains(ASCII("22 Rue Vicq d'Azir 75010 Paris"), ASCII("22 rue vicq")) {
			t.Error("contains")
		}
	})
	t.Run("startswith", func(t *testing.T) {
		if !strings.HasPrefix(ASCII("Étang des Rivières 42330 Saint-Galmier"), ASCII("etang des rivieres")) {
			t.Error("startswith")
		}
	})
	t.Run("equals", func(t *testing.T) {
		if ASCII("Saint galmier") != ASCII("Saint-Galmier") {
			t.Error("equals")
		}
	})
}

func TestSynonyms(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		m, err := ParseSynonyms(strings.NewReader("# a comment\ncba => abc\nxzy, zyx, => xyz\n"))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{"cba": {"abc"}, "xzy": {"xyz"}, "zyx": {"xyz"}}
		if len(m) != len(want) {
			t.Fatalf("got %v, want %v", m, want)
		}
		for k, v := range want {
			if !slices.Equal(m[k], v) {
				t.Errorf("%s: got %q, want %q", k, m[k], v)
			}
		}
	})
	t.Run("18e", func(t *testing.T) {
		if got := FrenchSynonyms()["18e"]; !slices.Equal(got, []string{"dix", "huitieme"}) {
			t.Errorf("18e -> %q", got)
		}
	})
	t.Run("bad", func(t *testing.T) {
		if _, err := ParseSynonyms(strings.NewReader("no arrow here\n")); err == nil {
			t.Error("want an error for a line without =>")
		}
	})
}

func TestPhonemicize(t *testing.T) {
	cases := [][2]string{
		{"cergy", "serji"}, {"andresy", "andrezi"}, {"conflans", "konflan"},
		{"watel", "vatel"}, {"dunkerque", "dunkerk"}, {"robecq", "robek"},
		{"sault", "sau"}, {"vaux", "vau"}, {"guyancourt", "guiankour"},
		{"quimper", "kinper"}, {"georges", "jorj"}, {"gorges", "gorj"},
		{"vallee", "vale"}, {"champs", "chan"}, {"vingt", "vin"},
		{"vingtieme", "vintiem"}, {"blanc", "blan"}, {"montee", "monte"},
		{"seigneur", "senieur"}, {"pforzheim", "pforzaim"},
		{"hyppolyte", "ipolit"}, {"h", "h"},
	}
	for c := 'a'; c <= 'z'; c++ {
		cases = append(cases, [2]string{"10" + string(c), "10" + string(c)}, [2]string{"1" + string(c), "1" + string(c)})
	}
	for _, c := range cases {
		t.Run(c[0], func(t *testing.T) {
			if got := Phonemicize(c[0]); got != c[1] {
				t.Errorf("Phonemicize(%q) = %q, want %q", c[0], got, c[1])
			}
		})
	}
}

// tokensString renders tokens as value(kind)@position, IsLast marked by *.
func tokensString(toks []Token) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Value)
		if t.Kind == KindHousenumber {
			b.WriteString("(hn)")
		}
		fmt.Fprintf(&b, "@%d", t.Position)
		if t.IsLast {
			b.WriteByte('*')
		}
	}
	return b.String()
}

func TestFrenchPipeline(t *testing.T) {
	for _, c := range [][2]string{
		{"10 bis rue des sapins", "10b(hn)@0 ru@2 de@3 sapin@4*"},
		{"18 rue du 8 mai", "dix(hn)@0 ui(hn)@0 ru@1 du@2 ui@3 mai@4*"},
		{"champs elysees", "chan@0 elize@1*"},
		{"ter", "teras@0*"},
	} {
		t.Run(c[0], func(t *testing.T) {
			folded, toks := french.Query(c[0])
			if folded != c[0] {
				t.Errorf("folded = %q", folded)
			}
			if got := tokensString(toks); got != c[1] {
				t.Errorf("Query(%q) = %s, want %s", c[0], got, c[1])
			}
		})
	}
}

func TestCleanQuery(t *testing.T) {
	for _, c := range [][2]string{
		// addok-france's clean_query tests.
		{"2 allée Jules Guesde 31068 TOULOUSE CEDEX 7", "2 allée Jules Guesde 31 TOULOUSE"},
		{"2 allée Jules Guesde BP 7015 31068 TOULOUSE", "2 allée Jules Guesde 31068 TOULOUSE"},
		{"Lieu-Dit Les Chênes", "Les Chênes"},
		{"Lieu-Dit", "Lieu-Dit"},
		{"32bis Rue des Vosges93290", "32bis Rue des Vosges 93290"},
		{"bp 18", ""},
		// addok-france's own examples that the 1.2.0 patterns cover.
		{"7, avenue Léon-Blum 31507 Toulouse Cedex 5", "7, avenue Léon-Blum 31 Toulouse"},
		{"159, avenue Jacques-Douzans 31604 Muret Cedex", "159, avenue Jacques-Douzans 31 Muret"},
		{"2 allée Jules Guesde B.P. 7015 31068 TOULOUSE", "2 allée Jules Guesde 31068 TOULOUSE"},
		{"2 allée Jules Guesde B.P. N 7015 31068 TOULOUSE", "2 allée Jules Guesde 31068 TOULOUSE"},
		{"BP 80111 159, avenue Jacques-Douzans 31604 Muret", "159, avenue Jacques-Douzans 31604 Muret"},
		{"12, place de l'Hôtel-de-Ville BP 46 02150 Sissonne", "12, place de l'Hôtel-de-Ville 02150 Sissonne"},
		{"6, rue Winston-Churchill CS 40055 60321 Compiègne", "6, rue Winston-Churchill 60321 Compiègne"},
		{"BP 80111 159, avenue Jacques-Douzans 31604 Muret Cedex", "159, avenue Jacques-Douzans 31 Muret"},
		{"BP 20169 Cite administrative - 8e étage Rue Gustave-Delory 59017 Lille", "Cite administrative - Rue Gustave-Delory 59017 Lille"},
		{"12e étage Rue Gustave-Delory 59017 Lille", "Rue Gustave-Delory 59017 Lille"},
		{"12eme étage Rue Gustave-Delory 59017 Lille", "Rue Gustave-Delory 59017 Lille"},
		{"12ème étage Rue Gustave-Delory 59017 Lille", "Rue Gustave-Delory 59017 Lille"},
		{"Rue Louis des Etages", "Rue Louis des Etages"},
		{"route express", "route express"},
		{"air s/ l'adour", "air sur l'adour"},
		{"air-s/-l'adour", "air sur l'adour"},
		{"Saint Didier s/s Ecouves", "Saint Didier sous Ecouves"},
		{"La Chapelle-aux-Brocs", "La Chapelle-aux-Brocs"},
		{"Lieu Dit Les Chênes", "Les Chênes"},
		{"LieuDit Les Chênes", "Les Chênes"},
		{"Lieux-Dits Les Chênes", "Les Chênes"},
		{"rue de la rente du lieu-dit la gachère", "rue de la rente du lieu-dit la gachère"},
		{"20 avenue de Ségur TSA 30719 75334 Paris Cedex 07", "20 avenue de Ségur 75 Paris"},
		{"20 avenue de Ségur TSA No30719 75334 Paris Cedex 07", "20 avenue de Ségur 75 Paris"},
		{"20 avenue de Ségur TSA N 30719 75334 Paris Cedex 07", "20 avenue de Ségur 75 Paris"},
		{"20 avenue de Ségur TSA N°30719 75334 Paris Cedex 07", "20 avenue de Ségur 75 Paris"},
		{"20 rue saint germain CIDEX 304 89110 Poilly-sur-tholon", "20 rue saint germain 89110 Poilly-sur-tholon"},
		{"20 rue saint germain CIDEX N°304 89110 Poilly-sur-tholon", "20 rue saint germain 89110 Poilly-sur-tholon"},
		// Regex corner cases, checked against Python's re.
		{"troisieme etage", "troisi"},
		{"bp 1 cs 2", "cs 2"}, // the first match eats the space "(^| )" needs
		{"2 allee jules guesde 31068 toulouse cedex 7", "2 allee jules guesde 31 toulouse"},
		{"2 allee jules guesde bp 7015 31068 toulouse", "2 allee jules guesde 31068 toulouse"},
		{"lieu dit les chenes", "les chenes"},
	} {
		t.Run(c[0], func(t *testing.T) {
			if got := CleanQuery(c[0]); got != c[1] {
				t.Errorf("CleanQuery(%q) = %q, want %q", c[0], got, c[1])
			}
		})
	}
}

func TestExtractAddress(t *testing.T) {
	for _, c := range [][2]string{
		{"Immeuble Plein-Centre 60, avenue du Centre 78180 Montigny-le-Bretonneux", "60, avenue du Centre 78180 Montigny-le-Bretonneux"},
		{"Non matching pattern", "Non matching pattern"},
		{"75, rue Boucicaut 92260 Fontenay-aux-Roses", "75, rue Boucicaut 92260 Fontenay-aux-Roses"},
		{"rue Boucicaut 92260 Fontenay-aux-Roses", "rue Boucicaut 92260 Fontenay-aux-Roses"},
		{"Maison de l'emploi et de la formation 13, rue de la Tuilerie 70400 Héricourt", "13, rue de la Tuilerie 70400 Héricourt"},
		{"Tribunal d'instance de Guebwiller 1, place Saint-Léger 68504 Guebwiller", "1, place Saint-Léger 68504 Guebwiller"},
		{"Centre social 3 rue du Laurier 73000 CHAMBERY", "3 rue du Laurier 73000 CHAMBERY"},
		{"Maison de la Médiation 72 Chaussée de l'Hôtel de Ville 59650 VILLENEUVE D ASCQ", "72 Chaussée de l'Hôtel de Ville 59650 VILLENEUVE D ASCQ"},
		{"2, Grande rue 62128 Écoust-Saint-Mein", "2, Grande rue 62128 Écoust-Saint-Mein"},
		{"Le Haut de la Rue du Bois 77122 Monthyon", "Le Haut de la Rue du Bois 77122 Monthyon"},
		{"Sous la Rue du Temple 62800 Liévin", "Sous la Rue du Temple 62800 Liévin"},
		{"resid goelands 28  impasse des petrels 76460 Saint-valery-en-caux", "28  impasse des petrels 76460 Saint-valery-en-caux"},
		{"resid goelands 28  bis impasse des petrels 76460 Saint-valery-en-caux", "28  bis impasse des petrels 76460 Saint-valery-en-caux"},
		{"resid goelands 28bis impasse des petrels 76460 Saint-valery-en-caux", "28bis impasse des petrels 76460 Saint-valery-en-caux"},
		{"boulevard jean larrieu 44000 mont de marsan", "boulevard jean larrieu 44000 mont de marsan"},
		{"PARC D ACTIVITE DE SAUMATY 26 AV ANDRE ROUSSIN 13016 MARSEILLE 16", "26 AV ANDRE ROUSSIN 13016 MARSEILLE 16"},
		{"resid goelands 28  bis imp des petrels 76460 Saint-valery-en-caux", "28  bis imp des petrels 76460 Saint-valery-en-caux"},
		{"bla bla bl 28 r des moulins", "28 r des moulins"},
		// Regex corner cases, checked against Python's re.
		{"12345 rue x", "12345 rue x"},                             // 5 digits: no number
		{"12 rue", "12 rue"},                                       // the type needs a space after it
		{"x 12 rond point du general", "12 rond point du general"}, // a type with a space
		{"batiment b 3 ter, rue x", "3 ter, rue x"},
		{"12 14 rue x", "14 rue x"},
		{"a12 rue x", "a12 rue x"}, // \b before the number
		{"a 12 rue x\nnext line", "12 rue x"},
	} {
		t.Run(c[0], func(t *testing.T) {
			if got := ExtractAddress(c[0]); got != c[1] {
				t.Errorf("ExtractAddress(%q) = %q, want %q", c[0], got, c[1])
			}
		})
	}
}

func TestGlueOrdinal(t *testing.T) {
	for _, c := range [][2]string{
		{"6 bis", "6bis"},
		{"6", "6"},
		{"6 avenue", "6 avenue"},
		{"60 bis avenue", "60bis avenue"},
		{"600 ter avenue", "600ter avenue"},
		{"6 quinquies avenue", "6quinquies avenue"},
		{"60 sexies avenue", "60sexies avenue"},
		{"600 quater avenue", "600quater avenue"},
		{"6 s avenue", "6s avenue"},
		{"60b avenue", "60b avenue"},
		{"600 b avenue", "600b avenue"},
		{"241 r de", "241 r de"},
		{"120 r renard", "120 r renard"},
		{"241 r rue", "241r rue"},
		{"place des terreaux", "place des terreaux"},
		{"rue du bis", "rue du bis"},
		{"12 14 rue", "14 rue"}, // addok-france drops a number followed by another
	} {
		t.Run(c[0], func(t *testing.T) {
			if got := strings.Join(GlueOrdinal(strings.Fields(c[0])), " "); got != c[1] {
				t.Errorf("GlueOrdinal(%q) = %q, want %q", c[0], got, c[1])
			}
		})
	}
}

func TestFlagHousenumber(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"6b", 0}, {"6", 0}, {"9303", 0}, {"93031", -1},
		{"6 avenue", 0}, {"60b avenue", 0}, {"600t avenue", 0}, {"6c avenue", 0},
		{"60s avenue", 0}, {"600q avenue", 0}, {"6s avenue", 0}, {"600b avenue", 0},
		{"241 r de", 0}, {"241r rue", 0}, {"9 grand rue", 0}, {"15 bld hugo", 0},
		{"place des terreaux", -1}, {"rue du bis", -1},
		{"rue du 8 mai", -1},
		{"chateau blanc 7", -1},
		{"residence 12 rue x", 1},
		{"12 rue 14 rue", 0}, // only the first
		{"6ab", -1},
	} {
		t.Run(c.in, func(t *testing.T) {
			if got := FlagHousenumber(strings.Fields(c.in)); got != c.want {
				t.Errorf("FlagHousenumber(%q) = %d, want %d", c.in, got, c.want)
			}
		})
	}
}

func TestFoldOrdinalLeadingZeros(t *testing.T) {
	for _, c := range [][2]string{
		{"60bis", "60b"}, {"60BIS", "60b"}, {"60ter", "60t"}, {"4terre", "4terre"},
		{"60quater", "60q"}, {"60quinquies", "60c"}, {"60sexies", "60s"},
		{"60 bis", "60 bis"}, {"bis", "bis"}, {"60b", "60b"}, {"12345bis", "12345bis"},
		{"60", "60"}, {"", ""},
	} {
		t.Run("fold/"+c[0], func(t *testing.T) {
			if got := FoldOrdinal(c[0]); got != c[1] {
				t.Errorf("FoldOrdinal(%q) = %q, want %q", c[0], got, c[1])
			}
		})
	}
	for _, c := range [][2]string{
		{"03", "3"}, {"00009", "9"}, {"02230", "02230"}, {"0", "0"},
		{"00", "0"}, {"000123", "123"}, {"0001234", "0001234"},
		{"rue 007", "rue 7"}, {"007a", "007a"}, {"a 0 b 00 c 000", "a 0 b 0 c 0"},
	} {
		t.Run("zeros/"+c[0], func(t *testing.T) {
			if got := RemoveLeadingZeros(c[0]); got != c[1] {
				t.Errorf("RemoveLeadingZeros(%q) = %q, want %q", c[0], got, c[1])
			}
		})
	}
}

func TestHousenumberKeys(t *testing.T) {
	t.Run("same key", func(t *testing.T) {
		for _, raw := range []string{"3 bis", "3bis", "3b", "3 BIS", "3B"} {
			if got := french.HousenumberKey(raw); got != "3b" {
				t.Errorf("HousenumberKey(%q) = %q, want 3b", raw, got)
			}
		}
	})
	t.Run("queries", func(t *testing.T) {
		for _, q := range []string{"3 bis rue du 8 mai troyes", "3 bis r du 8 mai troyes", "3bis r du 8 mai troyes"} {
			_, toks := french.Query(q)
			var hn []string
			for _, tk := range toks {
				if tk.Kind == KindHousenumber {
					hn = append(hn, tk.Value)
				}
			}
			if strings.Join(hn, "") != "3b" {
				t.Errorf("Query(%q) housenumber = %q, want 3b", q, hn)
			}
		}
		// F1: no number, the 8 of the street name is a word.
		_, toks := french.Query("rue du 8 mai troyes")
		for _, tk := range toks {
			if tk.Kind == KindHousenumber {
				t.Errorf("rue du 8 mai troyes: %v flagged", tk)
			}
		}
	})
	t.Run("1 bis", func(t *testing.T) {
		if got := french.HousenumberKey("1 bis"); got != "1b" {
			t.Errorf("HousenumberKey(1 bis) = %q", got)
		}
	})
	t.Run("synonym numbers", func(t *testing.T) {
		for raw, want := range map[string]string{"8": "ui", "10": "dix", "18": "dixui", "10bis": "10b", "100": "sen", "1": "un", "21": "21"} {
			if got := french.HousenumberKey(raw); got != want {
				t.Errorf("HousenumberKey(%q) = %q, want %q", raw, got, want)
			}
		}
		// The query side joins its housenumber tokens the same way.
		_, toks := french.Query("18 rue du 8 mai")
		var hn string
		for _, tk := range toks {
			if tk.Kind == KindHousenumber {
				hn += tk.Value
			}
		}
		if hn != french.HousenumberKey("18") {
			t.Errorf("query housenumber %q != key %q", hn, french.HousenumberKey("18"))
		}
	})
	t.Run("default profile", func(t *testing.T) {
		p := NewPipeline(Config{Synonyms: map[string][]string{"18": {"dix", "huit"}}})
		if got := p.HousenumberKey("18"); got != "dixhuit" {
			t.Errorf("got %q", got)
		}
		if got := p.HousenumberKey("1 bis"); got != "1bis" {
			t.Errorf("got %q", got)
		}
	})
}

// TestEachFuzzyMatchesFuzzy: EachFuzzy yields Fuzzy's neighbours in the
// same order, and both the neighbours deduplicated by value
// (neighboursByValue), with the AZERTY map, with every letter, and with a
// map that lists letters twice, among their own neighbours and beyond
// ASCII, on words with accented letters too.
func TestEachFuzzyMatchesFuzzy(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	odd := map[rune]string{'a': "bab", 'b': "ab", 'e': "zeazeé", 'o': "o", 'é': "eèée"}
	pipes := []*Pipeline{NewPipeline(Config{}), NewPipeline(Config{FuzzyKeyMap: odd}), NewPipeline(Config{FuzzyAllLetters: true})}
	words := []string{"école", "ïle", "aa", "a", "aaaa", "abba"}
	for range 3000 {
		letters := []rune("aabeilnorstuzéç")
		b := make([]rune, 1+r.IntN(12))
		for i := range b {
			b[i] = letters[r.IntN(len(letters))]
		}
		words = append(words, string(b))
	}
	for _, p := range pipes {
		var buf []byte
		for _, w := range words {
			var got []string
			buf = p.EachFuzzy(w, buf, func(s string) bool {
				got = append(got, strings.Clone(s))
				return true
			})
			if want := neighbours(w, p.keyMap); !slices.Equal(got, want) {
				t.Fatalf("%q (key map %v): EachFuzzy %q, Fuzzy %q", w, p.keyMap, got, want)
			}
			if want := neighboursByValue(w, p.keyMap); !slices.Equal(got, want) {
				t.Fatalf("%q (key map %v): EachFuzzy %q, deduplicated by value %q", w, p.keyMap, got, want)
			}
		}
	}
	n := 0
	NewPipeline(Config{}).EachFuzzy("sapin", nil, func(string) bool { n++; return n < 3 })
	if n != 3 {
		t.Errorf("EachFuzzy went on after yield returned false: %d calls", n)
	}
}

// neighboursByValue is how neighbours were made before eachNeighbour:
// every edit written out rune by rune, the same-length ones deduplicated
// by value with a map, as Addok's make_fuzzy does. It is the reference
// eachNeighbour's structural deduplication is checked against.
func neighboursByValue(word string, keyMap map[rune][]rune) []string {
	if word == "" || IsAllDigits(word) {
		return nil
	}
	w := []rune(word)
	n := len(w)
	// Every neighbour is written into one arena, turned into a single
	// string at the end and sliced: a few allocations instead of hundreds.
	var g fuzzGenRef
	g.arena = make([]byte, 0, (26*(n+1)+12*n)*(len(word)+1))
	g.ends = make([]int, 0, 26*(n+1)+12*n)
	nb := make([]rune, n+1)
	// Transpositions.
	for i := 0; i+1 < n; i++ {
		copy(nb, w)
		nb[i], nb[i+1] = nb[i+1], nb[i]
		g.add(nb[:n])
	}
	// Substitutions.
	if keyMap != nil {
		for i := 0; i < n; i++ {
			subs, ok := keyMap[w[i]]
			if !ok {
				continue
			}
			copy(nb, w)
			for _, l := range subs {
				// Addok compares with the letter it put there last, not
				// with the word's: a map listing a letter as its own
				// neighbour (not in first place) yields the word itself.
				if l != nb[i] {
					nb[i] = l
					g.add(nb[:n])
				}
			}
		}
	} else {
		for l := 'a'; l <= 'z'; l++ {
			for i := 0; i < n; i++ {
				if w[i] != l {
					copy(nb, w)
					nb[i] = l
					g.add(nb[:n])
				}
			}
		}
	}
	// Insertions.
	sameLen := len(g.ends)
	for l := 'a'; l <= 'z'; l++ {
		for i := 0; i <= n; i++ {
			if i > 0 && w[i-1] == l {
				// Same string as inserting l one place earlier.
				continue
			}
			copy(nb, w[:i])
			nb[i] = l
			copy(nb[i+1:], w[i:])
			g.add(nb[:n+1])
		}
	}
	// Deletions.
	if n > 3 {
		for i := 0; i < n; i++ {
			if i > 0 && w[i-1] == w[i] {
				// Same string as deleting the previous letter.
				continue
			}
			copy(nb, w[:i])
			copy(nb[i:], w[i+1:])
			g.add(nb[:n-1])
		}
	}
	return g.strings(sameLen)
}

type fuzzGenRef struct {
	arena []byte
	ends  []int
}

func (g *fuzzGenRef) add(r []rune) {
	for _, c := range r {
		g.arena = utf8.AppendRune(g.arena, c)
	}
	g.ends = append(g.ends, len(g.arena))
}

// strings slices the arena. Neighbours of different lengths never
// coincide and insertions and deletions skip their own repeats at
// generation, so only the first sameLen ones (transpositions and
// substitutions) may repeat; the first occurrence is kept.
func (g *fuzzGenRef) strings(sameLen int) []string {
	all := string(g.arena)
	out := make([]string, 0, len(g.ends))
	seen := make(map[string]struct{}, sameLen)
	start := 0
	for k, end := range g.ends {
		s := all[start:end]
		start = end
		if k < sameLen {
			if _, ok := seen[s]; ok {
				continue
			}
			seen[s] = struct{}{}
		}
		out = append(out, s)
	}
	return out
}
