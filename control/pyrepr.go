package control

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/f2bx/f2bx/internal/pyrepr"
)

// Decode reads a response value as fail2ban's client sees it: JSON numbers
// stay json.Number, so that integers print as Python prints them.
func Decode(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode value: %w", err)
	}
	return v, nil
}

// PyRepr writes v as Python's str() of the same value writes it (None,
// True, 'text', [1, 2], {'k': ['v']}): what fail2ban-client prints for a
// return value it does not beautify.
func PyRepr(v any) string {
	var b strings.Builder
	pyRepr(&b, v, true)
	return b.String()
}

func pyRepr(b *strings.Builder, v any, top bool) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case json.Number:
		b.WriteString(pyNumber(x))
	case float64:
		b.WriteString(pyNumber(json.Number(strconv.FormatFloat(x, 'g', -1, 64))))
	case string:
		if top {
			b.WriteString(x) // print(str) writes the text itself
		} else {
			b.WriteString(pyQuote(x))
		}
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyRepr(b, e, false)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		i := 0
		for _, k := range sortedKeys(x) {
			if i > 0 {
				b.WriteString(", ")
			}
			i++
			b.WriteString(pyQuote(k))
			b.WriteString(": ")
			pyRepr(b, x[k], false)
		}
		b.WriteByte('}')
	default:
		fmt.Fprint(b, x)
	}
}

// pyNumber writes an integer as is, and a float as Python's repr does
// (always with a point or an exponent).
func pyNumber(n json.Number) string {
	s := n.String()
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	r := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(r, ".eEn") {
		r += ".0"
	}
	return r
}

// pyQuote is Python's repr of a str.
func pyQuote(s string) string { return pyrepr.Quote(s) }
