package fail2ban

import "fmt"

// shlexSplit splits s into words as Python's shlex.split does in POSIX
// mode: whitespace separates words, single quotes keep everything, double
// quotes keep everything but a backslash before '"' or '\', and a backslash
// outside quotes escapes the next character.
func shlexSplit(s string) ([]string, error) {
	var (
		words []string
		cur   []rune
		in    bool // a word has started (possibly empty, as in '')
		quote rune
		rs    = []rune(s)
	)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur = append(cur, c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(rs) && (rs[i+1] == '"' || rs[i+1] == '\\'):
				i++
				cur = append(cur, rs[i])
			default:
				cur = append(cur, c)
			}
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == '\\':
			if i+1 >= len(rs) {
				return nil, fmt.Errorf("no escaped character")
			}
			i++
			cur, in = append(cur, rs[i]), true
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if in {
				words = append(words, string(cur))
				cur, in = nil, false
			}
		default:
			cur, in = append(cur, c), true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("no closing quotation")
	}
	if in {
		words = append(words, string(cur))
	}
	return words, nil
}
