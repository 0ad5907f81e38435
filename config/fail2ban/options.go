package fail2ban

import (
	"fmt"
	"strings"

	"github.com/dlclark/regexp2"
)

// The option-list grammar of fail2ban's jail values, e.g.
// `action = name[p1="a,b", p2='x'][p3=y]`. These need backtracking and
// lookahead, so they run on regexp2 exactly as fail2ban writes them.
var (
	optionRE        = regexp2.MustCompile(`^([^\[]+)(?:\[(.*)\])?\s*$`, regexp2.Singleline)
	optionExtractRE = regexp2.MustCompile(
		`\s*([\w\-_\.]+)=(?:"([^"]*)"|'([^']*)'|([^,\]]*))(?:,|\]\s*\[|$|(?<wrngA>.+))|,?\s*$|(?<wrngB>.+)`, regexp2.Singleline)
	optionSplitRE = regexp2.MustCompile(
		`(?:[^\[\s]+(?:\s*\[\s*(?:[\w\-_\.]+=(?:"[^"]*"|'[^']*'|[^,\]]*)\s*(?:,|\]\s*\[)?\s*)*\])?\s*|\S+)(?=\n\s*|\s+|$)`, regexp2.Singleline)
)

// ExtractOptions splits "name[k=v, ...]" into the name and its options,
// in the order given (a repeated key keeps its first position).
func ExtractOptions(s string) (string, *odict, error) {
	m, err := optionRE.FindStringMatch(s)
	if err != nil || m == nil {
		return "", nil, fmt.Errorf("unexpected option syntax")
	}
	name := m.GroupByNumber(1).String()
	opts := newODict()
	if g := m.GroupByNumber(2); len(g.Captures) > 0 && g.String() != "" {
		optstr := g.String()
		for om, _ := optionExtractRE.FindStringMatch(optstr); om != nil; om, _ = optionExtractRE.FindNextMatch(om) {
			if g := om.GroupByName("wrngA"); len(g.Captures) > 0 {
				return "", nil, fmt.Errorf("unexpected syntax at %d after option %q: %s", g.Index, om.GroupByNumber(1).String(), head(g.String(), 25))
			}
			if g := om.GroupByName("wrngB"); len(g.Captures) > 0 {
				return "", nil, fmt.Errorf("expected option, wrong syntax at %d: %s", g.Index, head(g.String(), 25))
			}
			key := om.GroupByNumber(1)
			if len(key.Captures) == 0 || key.String() == "" {
				continue
			}
			var val string
			for _, n := range []int{2, 3, 4} {
				if g := om.GroupByNumber(n); len(g.Captures) > 0 {
					val = g.String()
					break
				}
			}
			opts.set(pyStrip(key.String()), pyStrip(val))
		}
	}
	return name, opts, nil
}

// Params are the options of "name[k=v, ...]", in order.
type Params = *odict

// Keys returns the option names in order.
func (d *odict) Keys() []string { return append([]string(nil), d.keys...) }

// Str returns an option's value as a string.
func (d *odict) Str(k string) string { return d.str(k) }

// SplitWithOptions splits a multi-line action value into its entries,
// keeping line breaks inside an entry's [...] options.
func SplitWithOptions(s string) []string {
	var out []string
	for m, _ := optionSplitRE.FindStringMatch(s); m != nil; m, _ = optionSplitRE.FindNextMatch(m) {
		out = append(out, m.String())
	}
	return out
}

func head(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}

// pyStrip is Python's str.strip().
func pyStrip(s string) string { return strings.TrimFunc(s, isPySpace) }
