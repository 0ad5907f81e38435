package pyre

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// highBytes matches the bytes of one or more non-ASCII characters.
const highBytes = `[\x80-\xff]+`

// HyperscanSuperset translates a Python regex for Hyperscan in byte mode,
// so that it matches at least every line the regex matches: every atom
// that can match a non-ASCII character in Python (".", \w, \d, \s, their
// negations, negated classes, classes with non-ASCII characters) also
// matches any run of non-ASCII bytes. Unicode mode would be exact, but
// compiles some fifty times slower. Named groups lose their names unless
// a conditional refers to them; "{,n}" becomes "{0,n}".
func HyperscanSuperset(p string) (string, error) {
	keepNames := strings.Contains(p, "(?(")
	var b strings.Builder
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				return "", fmt.Errorf("bad escape (end of pattern)")
			}
			n := p[i+1]
			switch n {
			case 'w', 'd', 's':
				b.WriteString(`(?:\` + string(n) + `|` + highBytes + `)`)
			case 'W', 'D', 'S':
				b.WriteString(`(?:[^\` + strings.ToLower(string(n)) + `\x80-\xff]|` + highBytes + `)`)
			case 'Z':
				b.WriteString(`\z`)
			default:
				b.WriteString(p[i : i+2])
			}
			i += 2
		case c == '.':
			b.WriteString(`(?:[^\n\x80-\xff]|` + highBytes + `)`)
			i++
		case c == '[':
			end, cls, err := supersetClass(p, i)
			if err != nil {
				return "", err
			}
			b.WriteString(cls)
			i = end
		case c == '{':
			if m := quantRE.FindStringSubmatch(p[i:]); m != nil && (m[1] != "" || m[2] != "") {
				lo, hi := trimZeros(m[1]), trimZeros(m[3])
				if lo == "" {
					lo = "0"
				}
				if m[2] == "" {
					b.WriteString("{" + lo + "}")
				} else {
					b.WriteString("{" + lo + "," + hi + "}")
				}
				i += len(m[0])
				continue
			}
			b.WriteString(`\{`)
			i++
		case c == '(' && strings.HasPrefix(p[i:], "(?P<") && !keepNames:
			j := strings.IndexByte(p[i:], '>')
			if j < 0 {
				return "", fmt.Errorf("unterminated group name")
			}
			b.WriteString("(?:")
			i += j + 1
		case c == '(' && strings.HasPrefix(p[i:], "(?#"):
			j := strings.IndexByte(p[i:], ')')
			if j < 0 {
				return "", fmt.Errorf("unterminated comment")
			}
			i += j + 1
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// supersetClass rewrites the class starting at p[i]; it returns the index
// after it.
func supersetClass(p string, i int) (int, string, error) {
	j := i + 1
	negated := j < len(p) && p[j] == '^'
	if negated {
		j++
	}
	var inner strings.Builder
	if j < len(p) && p[j] == ']' {
		inner.WriteString(`\]`)
		j++
	}
	wide := negated
	for ; j < len(p) && p[j] != ']'; j++ {
		switch c := p[j]; {
		case c == '\\' && j+1 < len(p):
			n := p[j+1]
			if strings.IndexByte("wdsWDS", n) >= 0 {
				wide = true
			}
			inner.WriteString(p[j : j+2])
			j++
		case c == '[':
			inner.WriteString(`\[`)
		case c >= 0x80:
			_, size := utf8.DecodeRuneInString(p[j:])
			wide = true
			j += size - 1
		default:
			inner.WriteByte(c)
		}
	}
	if j >= len(p) {
		return 0, "", fmt.Errorf("unterminated character set")
	}
	cls := "[" + inner.String() + `\x80-\xff]`
	if negated {
		cls = "[^" + inner.String() + `\x80-\xff]`
	}
	if !wide {
		return j + 1, "[" + inner.String() + "]", nil
	}
	if inner.Len() == 0 && !negated {
		return j + 1, highBytes, nil
	}
	return j + 1, "(?:" + cls + "|" + highBytes + ")", nil
}
