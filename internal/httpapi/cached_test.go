package httpapi

import (
	"context"
	"testing"

	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/testutil"
	"balise/internal/text"
)

// What balise encodes for the cache passes ValidateAnswer; tampered
// bodies do not.
func TestValidateAnswerAcceptsEncodedAnswers(t *testing.T) {
	path := testutil.WriteIndex(t, index.BuildOptions{Text: text.Config{Profile: text.ProfileDefault}, Workers: 1},
		testutil.NDJSON(testutil.Doc{"name": "rue des lilas"}, testutil.Doc{"name": "rue des lys", "id": "x2"})...)
	ix := testutil.OpenIndex(t, path, index.OpenOptions{})
	e, err := search.New(ix, search.DefaultConfig(), text.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{1, 2, 5} {
		res, err := e.Search(context.Background(), search.Query{Q: "rue", Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		body := encodeAnswer(res, false)
		if err := ValidateAnswer(body); err != nil {
			t.Fatalf("limit %d: %v", limit, err)
		}
		if len(res) > 0 {
			for _, bad := range [][]byte{body[:len(body)-1], append(append([]byte{}, body...), ",{}"...), append([]byte{byte(2 * (len(res) + 1))}, body[1:]...), append([]byte{body[0] | 1}, body[1:]...)} {
				if ValidateAnswer(bad) == nil {
					t.Errorf("accepted tampered %q", bad)
				}
			}
		}
	}
	if err := ValidateAnswer(encodeAnswer(nil, false)); err != nil {
		t.Fatal(err)
	}
}
