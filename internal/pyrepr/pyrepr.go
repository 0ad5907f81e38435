// Package pyrepr writes strings as Python's repr() does, for output that
// must match fail2ban's (its command stream, fail2ban-client's answers).
package pyrepr

import (
	"fmt"
	"strings"
	"unicode"
)

// Quote returns s as Python's repr of a str.
func Quote(s string) string {
	var b strings.Builder
	WriteQuote(&b, s)
	return b.String()
}

// WriteQuote writes s as Python's str repr: single quotes unless s holds
// a single quote and no double quote, printable characters kept as they are.
func WriteQuote(b *strings.Builder, s string) {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(b, `\x%02x`, r)
		case r < 0x7f:
			b.WriteRune(r)
		case printable(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			fmt.Fprintf(b, `\U%08x`, r)
		}
	}
	b.WriteByte(q)
}

// printable approximates Python's str.isprintable for one character.
func printable(r rune) bool {
	if r == ' ' {
		return true
	}
	return unicode.IsPrint(r) && !unicode.Is(unicode.Zs, r)
}
