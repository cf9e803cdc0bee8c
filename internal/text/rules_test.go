package text

import (
	"strings"
	"testing"
)

// applyOne runs phonemicisation rule n (1-based, in addok-fr's order) alone.
func applyOne(n int, s string) string {
	out, ok := applyRule(n-1, nil, []byte(s))
	if !ok {
		return s
	}
	return string(out)
}

// Each of the 38 rules alone; expectations computed with Python's re.sub on
// addok-fr's pattern.
// phonemeCases are, per phonemicisation rule, inputs and what that rule
// alone makes of them.
var phonemeCases = []struct {
	rule    int
	in, out string
}{
	{1, "champs", "chan"},
	{1, "camp", "can"},
	{1, "grand", "gran"},
	{1, "grands", "gran"},
	{1, "enfant", "enfan"},
	{1, "amps", "an"},
	{1, "mp", "mp"},
	{1, "pamp", "pan"},
	{1, "lampe", "lampe"},
	{1, "and", "an"},
	{2, "compte", "conte"},
	{2, "ampoule", "ampoule"},
	{2, "imprimer", "imprimer"},
	{2, "emprunt", "emprunt"},
	{2, "tempe", "tempe"},
	{2, "compr", "compr"},
	{2, "camp", "camp"},
	{2, "xmpt", "xmpt"},
	{3, "vingtaine", "vintaine"},
	{3, "vingtieme", "vintieme"},
	{3, "ngt", "ngt"},
	{3, "longtemps", "lontemps"},
	{4, "vingt", "vin"},
	{4, "longt", "lon"},
	{4, "ngtngt", "nn"},
	{4, "ngta", "na"},
	{5, "georges", "jeorjes"},
	{5, "gigi", "jiji"},
	{5, "ggi", "ggi"},
	{5, "gorge", "gorje"},
	{5, "g", "g"},
	{5, "gy", "jy"},
	{5, "agent", "ajent"},
	{5, "bague", "bague"},
	{6, "guerre", "gerre"},
	{6, "guide", "gide"},
	{6, "gue", "ge"},
	{6, "gu", "gu"},
	{6, "aguo", "ago"},
	{6, "ague", "age"},
	{6, "quai", "quai"},
	{7, "seigneur", "seinieur"},
	{7, "peigne", "peinie"},
	{7, "eign", "eign"},
	{7, "gnome", "gnome"},
	{7, "reigna", "reinia"},
	{8, "jean", "jan"},
	{8, "jeu", "ju"},
	{8, "je", "je"},
	{8, "jeje", "jeje"},
	{8, "jeyu", "jyu"},
	{9, "cour", "kour"},
	{9, "acte", "akte"},
	{9, "chat", "chat"},
	{9, "cite", "cite"},
	{9, "cw", "cw"},
	{9, "c", "c"},
	{9, "10c", "10c"},
	{9, "clos", "klos"},
	{10, "blanc", "blan"},
	{10, "banc", "ban"},
	{10, "anc", "an"},
	{10, "ancre", "ancre"},
	{10, "an", "an"},
	{11, "roc", "rok"},
	{11, "10c", "10c"},
	{11, "sch", "sch"},
	{11, "bach", "bak"},
	{11, "ch", "ch"},
	{11, "c", "c"},
	{11, "lac", "lak"},
	{11, "ac", "ak"},
	{11, "1ch", "1k"},
	{11, "bac", "bak"},
	{12, "rose", "roze"},
	{12, "maison", "maizon"},
	{12, "sas", "sas"},
	{12, "osose", "ozoze"},
	{12, "s", "s"},
	{12, "asa", "aza"},
	{12, "ase1", "aze1"},
	{13, "quai", "kai"},
	{13, "quimper", "kimper"},
	{13, "q", "k"},
	{13, "coq", "cok"},
	{13, "10q", "10q"},
	{13, "aqu", "ak"},
	{13, "qqu", "kk"},
	{13, "iraq", "irak"},
	{14, "accent", "asent"},
	{14, "accident", "asident"},
	{14, "occ", "occ"},
	{14, "ccc", "ccc"},
	{14, "ccie", "sie"},
	{15, "rick", "rik"},
	{15, "ck", "k"},
	{15, "ckck", "kk"},
	{16, "philippe", "filippe"},
	{16, "ph", "f"},
	{16, "phph", "ff"},
	{17, "smith", "smite"},
	{17, "th", "te"},
	{17, "thé", "thé"},
	{17, "bath", "bate"},
	{18, "thomas", "tomas"},
	{18, "ahah", "aa"},
	{18, "h", "h"},
	{18, "1h", "1h"},
	{18, "sh", "sh"},
	{18, "ch", "ch"},
	{18, "hh", "h"},
	{18, "abh", "ab"},
	{19, "hugo", "ugo"},
	{19, "h", "h"},
	{19, "hh", "h"},
	{19, "h\nx", "h\nx"},
	{20, "ascenseur", "asenseur"},
	{20, "sc", "s"},
	{20, "scsc", "ss"},
	{21, "shop", "chop"},
	{21, "sh", "ch"},
	{21, "rush", "ruch"},
	{22, "watel", "vatel"},
	{22, "w", "v"},
	{22, "1w", "1w"},
	{22, "ww", "vv"},
	{22, "aw", "av"},
	{23, "cite", "site"},
	{23, "cycle", "sycle"},
	{23, "ce", "se"},
	{23, "c", "c"},
	{24, "yves", "ives"},
	{24, "y", "i"},
	{24, "1y", "1y"},
	{24, "yy", "ii"},
	{24, "ay", "ai"},
	{25, "esnault", "enault"},
	{25, "esn", "en"},
	{26, "pforzheim", "pforzhaim"},
	{26, "eim", "aim"},
	{26, "eim x", "aimx"},
	{26, "eimx", "eimx"},
	{26, "reims", "reims"},
	{27, "maison", "maison"},
	{27, "seine", "sene"},
	{27, "caen", "cen"},
	{27, "ae", "ae"},
	{27, "ei", "ei"},
	{27, "aei", "ei"},
	{27, "reine", "rene"},
	{28, "oeufs", "eu"},
	{28, "oeufs x", "eux"},
	{28, "boeufs", "beu"},
	{28, "oeufsx", "oeufsx"},
	{29, "oeuvre", "euvre"},
	{29, "coeur", "ceur"},
	{29, "oeu", "euu"},
	{29, "oeu1", "eu1"},
	{29, "oe", "oe"},
	{29, "coe", "coe"},
	{29, "boeu", "beuu"},
	{29, "oeil", "euil"},
	{30, "des", "de"},
	{30, "s", "s"},
	{30, "10s", "10s"},
	{30, "ss", "s"},
	{30, "les", "le"},
	{31, "vaux", "vau"},
	{31, "aulx", "au"},
	{31, "ux", "u"},
	{31, "x", "x"},
	{31, "lx", "lx"},
	{31, "ulx", "u"},
	{31, "eux", "eu"},
	{31, "deux", "deu"},
	{32, "sault", "saut"},
	{32, "ult", "ut"},
	{32, "lt", "lt"},
	{32, "bult", "but"},
	{33, "grand", "gran"},
	{33, "bourg", "bour"},
	{33, "d", "d"},
	{33, "1d", "1d"},
	{33, "ag", "a"},
	{33, "10g", "10g"},
	{34, "petit", "peti"},
	{34, "est", "est"},
	{34, "st", "st"},
	{34, "1t", "1t"},
	{34, "t", "t"},
	{34, "at", "a"},
	{34, "et", "et"},
	{35, "campagne", "canpagne"},
	{35, "ambert", "anbert"},
	{35, "combe", "conbe"},
	{35, "amt", "ant"},
	{35, "mm", "mm"},
	{35, "imf", "inf"},
	{36, "rue", "ru"},
	{36, "le", "le"},
	{36, "e", "e"},
	{36, "ee", "ee"},
	{36, "1ee", "1ee"},
	{36, "aee", "ae"},
	{36, "de", "de"},
	{37, "monde", "monde"},
	{37, "fonte", "fonte"},
	{37, "andre", "andre"},
	{37, "ant", "ant"},
	{37, "antr", "antr"},
	{37, "ontario", "ontario"},
	{37, "pendu", "pendu"},
	{38, "vallee", "vale"},
	{38, "aaa", "a"},
	{38, "abba", "aba"},
	{38, "11", "11"},
	{38, "a", "a"},
	{38, "zzzz", "z"},
	{38, "ll1ll", "l1l"},
}

func TestPhonemeRules(t *testing.T) {
	covered := map[int]bool{}
	for _, c := range phonemeCases {
		covered[c.rule] = true
		t.Run(strings.Join([]string{"rule", itoa(c.rule), c.in}, "/"), func(t *testing.T) {
			if got := applyOne(c.rule, c.in); got != c.out {
				t.Errorf("rule %d on %q = %q, want %q", c.rule, c.in, got, c.out)
			}
		})
	}
	for r := 1; r <= 38; r++ {
		if !covered[r] {
			t.Errorf("rule %d has no case", r)
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return string(rune('0'+n/10)) + string(rune('0'+n%10))
}

// The letter masks only skip rules that cannot match: running every rule
// unconditionally must give the same result.
func TestPhonemeMasksAreSafe(t *testing.T) {
	words := []string{"champs", "elysees", "guyancourt", "seigneur", "oeufs", "coeur", "vaux", "sault", "pforzheim",
		"hyppolyte", "quimper", "robecq", "dunkerque", "vingtieme", "blanc", "georges", "jeanne", "accident", "rick",
		"philippe", "smith", "thomas", "ascenseur", "shop", "watel", "cycle", "esnault", "caen", "aulx", "grand", "petit",
		"campagne", "monde", "10b", "1ter", "h", "hh", "ckck", "eim", "oeu", "ngt"}
	for _, w := range words {
		s := w
		for r := 1; r <= 38; r++ {
			s = applyOne(r, s)
		}
		if got := Phonemicize(w); got != s {
			t.Errorf("Phonemicize(%q) = %q, unmasked chain gives %q", w, got, s)
		}
	}
}
