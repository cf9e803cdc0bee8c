package search

import (
	"slices"
	"testing"

	"balise/internal/text"
)

// French housenumbers and labels (addok-france's tests), BAN profile.

func fr() fixtureOpts { return fixtureOpts{profile: text.ProfileFrench} }

func TestRueDu8MaiHousenumbers(t *testing.T) {
	pt := func(lat float64) map[string]any { return map[string]any{"lat": lat, "lon": 4.07} }
	f := buildFixture(t, fr(), doc{"name": "rue du 8 Mai", "city": "Troyes", "lat": 48.3, "lon": 4.07,
		"housenumbers": map[string]any{"3": pt(48.3), "3 bis": pt(48.31), "8": pt(48.8)}})
	hn := func(q string) string {
		t.Helper()
		res := f.search(Query{Q: q})
		if len(res) == 0 {
			t.Fatalf("%q: no result", q)
		}
		return prop(res[0], "housenumber")
	}
	if got := hn("rue du 8 mai troyes"); got != "" {
		t.Errorf("F1: got housenumber %q", got)
	}
	if got := hn("8 rue du 8 mai troyes"); got != "8" {
		t.Errorf("F2 8: got %q", got)
	}
	if got := hn("3 rue du 8 mai troyes"); got != "3" {
		t.Errorf("F2 3: got %q", got)
	}
	for _, q := range []string{"3 bis rue du 8 mai troyes", "3 bis r du 8 mai troyes", "3bis r du 8 mai troyes"} {
		if got := hn(q); got != "3 bis" {
			t.Errorf("F3 %q: got %q", q, got)
		}
	}
}

func TestFrenchHousenumberKeys(t *testing.T) {
	pt := func(lat float64) map[string]any { return map[string]any{"lat": lat, "lon": 4.07} }
	f := buildFixture(t, fr(), doc{"name": "rue du 8 Mai", "city": "Troyes", "lat": 48.1, "lon": 4.07,
		"housenumbers": map[string]any{"8": pt(48.8), "10": pt(48.10), "18": pt(48.18), "1 bis": pt(48.01)}})
	for _, c := range []struct {
		q   string
		lat float64
		hn  string
	}{{"8 rue du 8 mai", 48.8, "8"}, {"10 rue du 8 mai", 48.10, "10"}, {"18 rue du 8 mai", 48.18, "18"}, {"1 bis rue du 8 mai", 48.01, "1 bis"}, {"1b rue du 8 mai", 48.01, "1 bis"}} {
		res := f.search(Query{Q: c.q})
		if len(res) == 0 || prop(res[0], "housenumber") != c.hn || res[0].Lat != c.lat {
			t.Errorf("%q: got %v", c.q, names(res))
		}
	}
}

func TestFrenchLabels(t *testing.T) {
	e := &Engine{profile: text.ProfileFrench}
	f := buildFixture(t, fr(),
		doc{"name": "rue des Lilas", "city": "Paris", "postcode": "75010", "housenumbers": map[string]any{"1 bis": map[string]any{"lat": 48.3254, "lon": 2.256}}},
		doc{"name": "Lille", "type": "municipality", "city": "Lille", "postcode": "59000"},
		doc{"name": "rue du Bourg", "city": []string{"ST GEORGES DES GARDES (CHEMILLE EN ANJOU)", "ST GEORGES DES GARDES", "CHEMILLE EN ANJOU"}})
	res := f.search(Query{Q: "1 bis rue des lilas paris"})
	want := []string{"1 bis rue des Lilas 75010 Paris", "rue des Lilas 75010 Paris", "1 bis rue des Lilas 75010", "rue des Lilas 75010",
		"1 bis rue des Lilas Paris", "rue des Lilas Paris", "1 bis rue des Lilas", "rue des Lilas"}
	if len(res) == 0 || !slices.Equal(e.makeLabels(res[0]), want) {
		t.Errorf("F6: got %q", e.makeLabels(res[0]))
	}
	res = f.search(Query{Q: "lille"})
	if len(res) == 0 || !slices.Equal(res[0].Labels, []string{"Lille", "59000 Lille", "Lille 59000"}) {
		t.Errorf("F7: got %q", res[0].Labels)
	}
	res = f.search(Query{Q: "rue du bourg"})
	if len(res) == 0 || res[0].Label() != "rue du Bourg ST GEORGES DES GARDES (CHEMILLE EN ANJOU)" {
		t.Fatalf("F8: got %q", res[0].Labels)
	}
	for _, city := range []string{"ST GEORGES DES GARDES", "CHEMILLE EN ANJOU"} {
		if !slices.Contains(res[0].Labels, "rue du Bourg "+city) {
			t.Errorf("F8: no label for %s in %q", city, res[0].Labels)
		}
	}
}

func TestNumberAfterStreet(t *testing.T) {
	// Addok ignores a number written after the street (its issue #406); balise attaches it.
	pt := map[string]any{"lat": 48.8, "lon": 2.3}
	f := buildFixture(t, fr(), doc{"name": "Rue du Château Blanc", "city": "Rennes", "postcode": "35000", "lat": 48.8, "lon": 2.3,
		"housenumbers": map[string]any{"7": pt, "12": pt, "12bis": pt}},
		doc{"name": "Rue du 8 Mai 1945", "city": "Rennes", "lat": 48.8, "lon": 2.3, "housenumbers": map[string]any{"8": pt, "3": pt}})
	for _, c := range []struct{ q, hn string }{
		{"rue du chateau blanc 7 rennes", "7"},
		{"château blanc 7", "7"},
		{"rue du chateau blanc 12 bis rennes", "12bis"},
		{"rue du 8 mai 1945 rennes", ""}, // 8 is part of the name
	} {
		res := f.search(Query{Q: c.q})
		if len(res) == 0 || prop(res[0], "housenumber") != c.hn {
			t.Errorf("%q: got %v (housenumber %q)", c.q, names(res), prop(res[0], "housenumber"))
		}
	}
	off := buildFixture(t, withCfg(fr(), func(c *Config) { c.NumberAnywhere = false }), doc{"name": "Rue du Château Blanc", "city": "Rennes",
		"housenumbers": map[string]any{"7": pt}})
	if res := off.search(Query{Q: "rue du chateau blanc 7 rennes"}); len(res) == 0 || prop(res[0], "housenumber") != "" {
		t.Errorf("Addok behaviour: got %v", names(res))
	}
}

func TestOldCommuneAndWrongPostcode(t *testing.T) {
	pt := map[string]any{"lat": 44.342455, "lon": 5.768979}
	f := buildFixture(t, fr(),
		doc{"name": "Chemin du Moulin", "postcode": "05300", "citycode": []string{"05053", "05069"}, "city": []string{"Garde-Colombe", "Lagrand"},
			"oldcitycode": "05069", "oldcity": "Lagrand", "lat": 44.342455, "lon": 5.768979, "importance": 0.29, "housenumbers": map[string]any{"5": pt}},
		doc{"name": "Rue de Rivoli", "postcode": "75004", "city": "Paris", "lat": 48.8555, "lon": 2.3604, "importance": 0.67,
			"housenumbers": map[string]any{"10": map[string]any{"lat": 48.8555, "lon": 2.3604}}},
		doc{"name": "Rue de la Paix", "postcode": "75002", "city": "Paris", "lat": 48.869, "lon": 2.331, "importance": 0.6})
	// Merged communes: the old name still finds the street, shown under the current one.
	for _, q := range []string{"5 chemin du moulin lagrand", "5 chemin du moulin garde-colombe"} {
		res := f.search(Query{Q: q})
		if len(res) == 0 || prop(res[0], "housenumber") != "5" || res[0].Label() != "5 Chemin du Moulin 05300 Garde-Colombe" {
			t.Errorf("%q: got %v", q, names(res))
		}
	}
	// A postcode that does not match the street still finds it, with a lower score than the right one.
	exact := f.search(Query{Q: "10 rue de rivoli 75004 paris"})
	wrong := f.search(Query{Q: "10 rue de rivoli 75008 paris"})
	if len(exact) == 0 || len(wrong) == 0 || prop(wrong[0], "street") != "Rue de Rivoli" || prop(wrong[0], "housenumber") != "10" {
		t.Fatalf("wrong postcode: got %v", names(wrong))
	}
	if wrong[0].Score >= exact[0].Score {
		t.Errorf("wrong postcode scored %v, not below the exact match's %v", wrong[0].Score, exact[0].Score)
	}
}

func TestDocumentByID(t *testing.T) {
	f := buildFixture(t, fr(), doc{"id": "98825_y6as4k", "name": "Rue des Sapins", "city": "Pouembout", "lat": -21.12, "lon": 164.9,
		"housenumbers": map[string]any{"10": map[string]any{"id": "98825_y6as4k_00010", "lat": -21.120919, "lon": 164.900792}}})
	r, ok, err := f.e.Document("98825_y6as4k")
	if err != nil || !ok || r.Label() != "Rue des Sapins Pouembout" || r.Housenumber != nil {
		t.Fatalf("street: %v %v %v", r, ok, err)
	}
	r, ok, err = f.e.Document("98825_y6as4k_00010")
	if err != nil || !ok || r.Label() != "10 Rue des Sapins Pouembout" || r.Lat != -21.120919 || prop(r, "score") != "" {
		t.Fatalf("housenumber: %v %v %v", r, ok, err)
	}
	if _, ok, _ := f.e.Document("98825_nope"); ok {
		t.Error("unknown id found")
	}
}
