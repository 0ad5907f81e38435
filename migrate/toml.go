package migrate

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/f2bx/f2bx/config"
)

// tomlWriter builds a TOML document by hand, so that it can carry
// comments and keep regexes readable (literal strings).
type tomlWriter struct{ b strings.Builder }

func (w *tomlWriter) comment(text string) {
	for _, l := range strings.Split(text, "\n") {
		if l == "" {
			w.b.WriteString("#\n")
			continue
		}
		w.b.WriteString("# " + l + "\n")
	}
}

func (w *tomlWriter) blank() { w.b.WriteString("\n") }

func (w *tomlWriter) table(keys ...string) {
	w.b.WriteString("[" + dotted(keys) + "]\n")
}

func (w *tomlWriter) arrayTable(keys ...string) {
	w.b.WriteString("[[" + dotted(keys) + "]]\n")
}

func (w *tomlWriter) str(key, v string) {
	w.b.WriteString(tomlKey(key) + " = " + tomlString(v) + "\n")
}

func (w *tomlWriter) raw(key, v string) {
	w.b.WriteString(tomlKey(key) + " = " + v + "\n")
}

func (w *tomlWriter) boolean(key string, v bool) { w.raw(key, strconv.FormatBool(v)) }

func (w *tomlWriter) integer(key string, v int) { w.raw(key, strconv.Itoa(v)) }

func (w *tomlWriter) time(key string, d config.Duration) { w.str(key, timeString(d.Seconds())) }

// list writes an array of strings, one per line when there are several.
func (w *tomlWriter) list(key string, vs []string) {
	if len(vs) == 0 {
		w.raw(key, "[]")
		return
	}
	if len(vs) == 1 && !strings.Contains(vs[0], "\n") {
		w.raw(key, "["+tomlString(vs[0])+"]")
		return
	}
	w.b.WriteString(tomlKey(key) + " = [\n")
	for _, v := range vs {
		w.b.WriteString("  " + tomlString(v) + ",\n")
	}
	w.b.WriteString("]\n")
}

func (w *tomlWriter) String() string { return w.b.String() }

func dotted(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = tomlKey(k)
	}
	return strings.Join(q, ".")
}

// tomlKey writes a key bare when TOML allows it, else quoted.
func tomlKey(k string) string {
	if k == "" {
		return `""`
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return basicString(k)
		}
	}
	return k
}

// tomlString writes s as a literal string ('...', no escapes: regexes stay
// as written) when it can, as a multi-line literal string for text with
// line breaks, else as a basic string with escapes.
func tomlString(s string) string {
	if !utf8.ValidString(s) {
		return basicString(s)
	}
	plain := !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f })
	if plain && !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	multi := !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' || r == 0x7f })
	if multi && strings.Contains(s, "\n") && !strings.Contains(s, "'''") && !strings.HasSuffix(s, "'") {
		// The line break right after the opening quotes is not part of
		// the value.
		return "'''\n" + s + "'''"
	}
	return basicString(s)
}

// basicString writes s in double quotes with TOML's escapes.
func basicString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// timeString writes seconds as a fail2ban time string ("10m", "1d12h",
// "-1") that config.ParseSeconds reads back exactly.
func timeString(sec float64) string {
	if sec < 0 || sec != math.Trunc(sec) || sec > 1e15 {
		return strconv.FormatFloat(sec, 'f', -1, 64)
	}
	n := int64(sec)
	if n == 0 {
		return "0"
	}
	var b strings.Builder
	for _, u := range []struct {
		name string
		secs int64
	}{{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}} {
		if q := n / u.secs; q > 0 {
			b.WriteString(strconv.FormatInt(q, 10) + u.name)
			n -= q * u.secs
		}
	}
	return b.String()
}
