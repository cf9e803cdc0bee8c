package text

import "testing"

func TestNgramQueryMatchesCompare(t *testing.T) {
	labels := []string{"", "a", "ab", "rue des sapins pouembout", "10 rue des sapins pouembout", "zzzz", "rue des lilas 75010 paris",
		"éè accents", "aaaaaaa", "sapin sapin sapin"}
	queries := append(labels, "10 rue des sapin pouembout", "rue", "aa", "a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 6 7 8 9 a b c d e f g h i j k l m n o p q r s t u v w x y z")
	for _, q := range queries {
		nq := NewNgramQuery(q)
		for _, l := range labels {
			if got, want := nq.Compare(l), NgramCompare(l, q); got != want {
				t.Errorf("Compare(%q, %q) = %v; want %v", l, q, got, want)
			}
		}
	}
}

func FuzzNgramQuery(f *testing.F) {
	f.Add("rue des sapins", "10 rue des sapin")
	f.Add("aaaa", "aa")
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := NewNgramQuery(b).Compare(a), NgramCompare(a, b); got != want {
			t.Fatalf("Compare(%q, %q) = %v; want %v", a, b, got, want)
		}
	})
}
