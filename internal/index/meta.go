package index

import "balise/internal/text"

// FieldSpec is one indexed text field and its boost (Addok's FIELDS).
type FieldSpec struct {
	Key   string  `json:"key"`
	Boost float64 `json:"boost"`
	// MunicipalityBoost replaces Boost on documents of type "municipality"
	// (Addok gives postcodes 1.2 there); 0 means no special case.
	MunicipalityBoost float64 `json:"municipality_boost,omitempty"`
}

// Meta is the index's self-description, stored as JSON in the meta section.
type Meta struct {
	FormatVersion int                 `json:"format_version"`
	Profile       string              `json:"profile"`
	Synonyms      map[string][]string `json:"synonyms,omitempty"`
	Fields        []FieldSpec         `json:"fields"`
	Filters       []string            `json:"filters"`
	Keys          []string            `json:"keys"`
	Attribution   string              `json:"attribution"`
	Licence       string              `json:"licence"`
	Documents     int                 `json:"documents"`
	Housenumbers  int                 `json:"housenumbers"`
	Terms         int                 `json:"terms"`
	Postings      int                 `json:"postings"`
	Points        int                 `json:"points"`
	Skipped       int                 `json:"skipped"`
	Sources       []string            `json:"sources"`
	BuiltAt       string              `json:"built_at"`
	BuildSeconds  float64             `json:"build_seconds"`
	BuildVersion  string              `json:"build_version,omitempty"`
	// Version identifies the content (a hash of every section checksum):
	// caches key on it so a new index never serves old answers.
	Version string `json:"version"`
}

// ProfileName maps a text profile to its stored name.
func ProfileName(p text.Profile) string {
	if p == text.ProfileFrench {
		return "fr"
	}
	return "default"
}

// ParseProfile is the inverse of ProfileName.
func ParseProfile(s string) (text.Profile, bool) {
	switch s {
	case "fr", "ban", "french":
		return text.ProfileFrench, true
	case "default", "addok":
		return text.ProfileDefault, true
	}
	return 0, false
}

// DefaultFields returns Addok's FIELDS for a profile (the BAN configuration
// adds citycode, oldcitycode, oldcity and district as EXTRA_FIELDS).
func DefaultFields(p text.Profile) []FieldSpec {
	f := []FieldSpec{
		{Key: "name", Boost: 4},
		{Key: "street", Boost: 1},
		{Key: "postcode", Boost: 1, MunicipalityBoost: 1.2},
		{Key: "city", Boost: 1},
		{Key: "context", Boost: 1},
	}
	if p == text.ProfileFrench {
		f = append(f,
			FieldSpec{Key: "citycode", Boost: 1},
			FieldSpec{Key: "oldcitycode", Boost: 1},
			FieldSpec{Key: "oldcity", Boost: 1},
			FieldSpec{Key: "district", Boost: 1},
		)
	}
	return f
}

// DefaultFilters returns Addok's FILTERS for a profile.
func DefaultFilters(p text.Profile) []string {
	if p == text.ProfileFrench {
		return []string{"type", "citycode", "postcode"}
	}
	return []string{"type", "postcode"}
}
