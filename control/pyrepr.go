package control

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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

// pyQuote is Python's repr of a str: single quotes unless the text holds
// one and no double quote; backslash escapes for the rest.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == '\\' || r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i-1])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r) && r != ' ':
			switch {
			case r <= 0xff:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\U%08x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
