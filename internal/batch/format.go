package batch

import (
	"balise/internal/index"
	"balise/internal/pyjs"
)

// valueText is the CSV cell for a stored value: Python's str() in the addok
// flavour, JavaScript's String() in the BAN one.
func valueText(v index.Value, js bool) string {
	v = v.First()
	switch v.Kind {
	case index.KindNull:
		return ""
	case index.KindFloat:
		if js {
			return pyjs.FormatJSNumber(v.Float)
		}
	case index.KindBool:
		if js {
			if v.Bool {
				return "true"
			}
			return "false"
		}
	}
	return v.Text()
}
