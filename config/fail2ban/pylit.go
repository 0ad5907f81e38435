package fail2ban

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/f2bx/f2bx/internal/pyrepr"
)

// pyRepr renders v as Python's repr() does, for the values of a command
// stream: str, int, float, bool, None, lists and dicts of them.
func pyRepr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

func writeRepr(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case string:
		pyrepr.WriteQuote(b, x)
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case []string:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyrepr.WriteQuote(b, e)
		}
		b.WriteByte(']')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e)
		}
		b.WriteByte(']')
	case *odict:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			pyrepr.WriteQuote(b, k)
			b.WriteString(": ")
			writeRepr(b, x.m[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "%v", x)
	}
}

// pyStr renders v as Python's str() does.
func pyStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "None"
	default:
		return pyRepr(x)
	}
}

// jsonDumps renders a string map as Python's json.dumps does (ASCII only).
func jsonDumps(d *odict) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range d.keys {
		if i > 0 {
			b.WriteString(", ")
		}
		writeJSONStr(&b, k)
		b.WriteString(": ")
		writeJSONStr(&b, pyStr(d.m[k]))
	}
	b.WriteByte('}')
	return b.String()
}

func writeJSONStr(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r > 0x7e && r <= 0xffff):
			fmt.Fprintf(b, `\u%04x`, r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// pyInt parses s as Python's int() does: surrounding whitespace, a sign and
// underscores between digits allowed.
func pyInt(s string) (int, error) {
	t := strings.TrimFunc(s, isPySpace)
	body := strings.TrimLeft(t, "+-")
	if len(t)-len(body) > 1 || body == "" || strings.HasPrefix(body, "_") || strings.HasSuffix(body, "_") || strings.Contains(body, "__") {
		return 0, fmt.Errorf("invalid literal for int() with base 10: %s", pyRepr(s))
	}
	n, err := strconv.Atoi(strings.ReplaceAll(t, "_", ""))
	if err != nil {
		return 0, fmt.Errorf("invalid literal for int() with base 10: %s", pyRepr(s))
	}
	return n, nil
}

// AsBool reads a boolean as fail2ban does (_as_bool): 1, on, true and yes,
// in any case, are true; anything else is false.
func AsBool(s string) bool {
	switch strings.ToLower(s) {
	case "1", "on", "true", "yes":
		return true
	}
	return false
}

// splitWords splits on commas, spaces and new lines, dropping empty words.
func splitWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' }) {
		if w = pyStrip(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}

func isPySpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

func toLower(s string) string { return strings.ToLower(s) }

// PyRepr renders v (a command value, or the options of ExtractOptions) as
// Python's repr() does, as fail2ban's tools print it.
func PyRepr(v any) string { return pyRepr(v) }
