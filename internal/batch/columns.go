package batch

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"balise/internal/pyjs"
	"balise/internal/search"
)

// colKind is what a result column holds.
type colKind uint8

const (
	cPointLat    colKind = iota // the result's latitude (latitude / result_latitude)
	cPointLon                   // the result's longitude
	cLabel                      // result_label
	cScore                      // result_score
	cScoreNext                  // result_score_next: the second result's score
	cType                       // result_type
	cID                         // result_id
	cHousenumber                // result_housenumber
	cDistance                   // result_distance, metres
	cStatus                     // result_status
	cField                      // addok: result_<field>, the raw document attribute
	cProp                       // BAN: result_<property>, the feature property
)

// resultCol is one column added to the rows.
type resultCol struct {
	name  string
	kind  colKind
	field string // cField / cProp
	pos   int    // index in the output row
}

// StatusColumn is added to every output.
const StatusColumn = "result_status"

// Row statuses.
const (
	StatusOK       = "ok"
	StatusNotFound = "not-found"
	StatusSkipped  = "skipped"
	StatusError    = "error"
)

var banFields = []string{"name", "street", "postcode", "city", "context", "citycode", "oldcitycode", "oldcity", "district"}

// defaultColumns returns the flavour's result columns (addok-csv's, addok-server's).
// fields are the index's text fields (addok-csv adds result_<field> for
// each).
func defaultColumns(f Flavour, m Mode, fields []string) []string {
	var cols []string
	switch {
	case m == Search:
		cols = []string{"latitude", "longitude", "result_label", "result_score", "result_score_next", "result_type", "result_id", "result_housenumber"}
	case f == Addok:
		cols = []string{"result_latitude", "result_longitude", "result_label", "result_distance", "result_type", "result_id", "result_housenumber"}
	default:
		cols = []string{"result_latitude", "result_longitude", "result_distance", "result_label", "result_type", "result_id", "result_housenumber"}
	}
	if f == BAN {
		fields = banFields
	}
	for _, k := range fields {
		c := "result_" + k
		if !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	return append(cols, StatusColumn)
}

// lookupColumn resolves a result column name.
func lookupColumn(name string, f Flavour, fields []string) (resultCol, bool) {
	c := resultCol{name: name}
	switch name {
	case "latitude", "result_latitude":
		c.kind = cPointLat
	case "longitude", "result_longitude":
		c.kind = cPointLon
	case "result_label":
		c.kind = cLabel
	case "result_score":
		c.kind = cScore
	case "result_score_next":
		c.kind = cScoreNext
	case "result_type":
		c.kind = cType
	case "result_id":
		c.kind = cID
	case "result_housenumber":
		c.kind = cHousenumber
	case "result_distance":
		c.kind = cDistance
	case StatusColumn:
		c.kind = cStatus
	default:
		key, ok := strings.CutPrefix(name, "result_")
		if !ok || key == "" {
			return c, false
		}
		c.field = key
		if f == BAN {
			c.kind = cProp // any property of the feature
			return c, true
		}
		if !slices.Contains(fields, key) {
			return c, false
		}
		c.kind = cField
	}
	return c, true
}

// cells computes the result columns of one answered row.
type cells struct {
	js    bool // BAN flavour: JavaScript number formatting, properties
	r     *search.Result
	next  *search.Result
	props []search.Property // computed on first use
}

func (c *cells) value(col *resultCol) string {
	r := c.r
	switch col.kind {
	case cPointLat:
		return c.num(r.Lat)
	case cPointLon:
		return c.num(r.Lon)
	case cLabel:
		return r.Label()
	case cScore:
		return c.score(r.Score)
	case cScoreNext:
		if c.next == nil {
			if c.js {
				return ""
			}
			return "0"
		}
		return c.score(c.next.Score)
	case cType:
		return r.Type()
	case cID:
		return r.ID()
	case cHousenumber:
		if r.Housenumber != nil {
			return r.Housenumber.Raw
		}
		return ""
	case cDistance:
		if !r.HasDistance {
			return ""
		}
		return strconv.Itoa(r.Distance)
	case cField:
		return c.field(col.field)
	case cProp:
		if c.props == nil {
			c.props = r.Properties()
		}
		for _, p := range c.props {
			if p.Key == col.field {
				return valueText(p.Value, true)
			}
		}
	}
	return ""
}

func (c *cells) num(x float64) string {
	if c.js {
		return pyjs.FormatJSNumber(x)
	}
	return pyjs.FormatPyFloat(x)
}

// score is a result_score cell: addok-csv rounds to 2 decimals.
func (c *cells) score(x float64) string {
	if c.js {
		return pyjs.FormatJSNumber(x)
	}
	return pyjs.FormatPyFloat(pyjs.PyRound(x, 2))
}

// field is addok-csv's getattr(result, key): the stored attribute (first
// value of a list), a matched housenumber's payload taking precedence.
// Unlike the JSON "name", it is the street name without the number.
func (c *cells) field(key string) string {
	if hn := c.r.Housenumber; hn != nil {
		for _, p := range hn.Payload {
			if p.Key == key {
				return valueText(p.Value, false)
			}
		}
	}
	if v, ok := c.r.Doc.Get(key); ok {
		return valueText(v, false)
	}
	return ""
}

// columnError is addok-csv's message for a column missing from the header.
func columnError(col string, header []string, f Flavour) error {
	if f == BAN {
		return &Error{Kind: ErrColumn, Title: "At least one given column name is unknown", Detail: "At least one given column name is unknown"}
	}
	msg := fmt.Sprintf("Cannot found column '%s' in columns %s", col, pyjs.PyReprList(header))
	return &Error{Kind: ErrColumn, Title: msg, Detail: msg}
}
