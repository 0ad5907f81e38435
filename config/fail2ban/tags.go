package fail2ban

import (
	"fmt"
	"regexp"
	"strings"
)

// maxTagReplace is how often one tag may be replaced within another before
// the definitions count as self-referencing.
const maxTagReplace = 25

var tagRE = regexp.MustCompile(`<([^ <>]+)>`)

// SubstituteTags resolves <tag> references among string options (keys in
// the order fail2ban iterates them), as fail2ban's substituteRecursiveTags.
// With a conditional such as "family=inet6", a reference to tag takes the
// option "tag?family=inet6" first. Tags in ignore are neither replaced
// nor expanded. The input is not modified.
func SubstituteTags(keys []string, values map[string]string, conditional string, ignore map[string]bool) (map[string]string, error) {
	in := newODict()
	for _, k := range keys {
		in.set(k, values[k])
	}
	out, err := substituteTags(in, conditional, ignore, nil)
	if err != nil {
		return nil, err
	}
	res := make(map[string]string, len(out.keys))
	for _, k := range out.keys {
		res[k] = pyStr(out.m[k])
	}
	return res, nil
}

// substituteTags replaces <tag> references in the values of tags with the
// values of other tags, recursively, as fail2ban does for filter and action
// definitions. With a conditional, "tag?conditional" is looked up before
// tag. Tags in ignore are neither replaced nor expanded; a tag that is not
// defined is looked up through extra (may be nil) and otherwise left as it
// is. The input is not modified.
func substituteTags(in *odict, conditional string, ignore map[string]bool, extra func(string) (any, error)) (*odict, error) {
	tags := in
	done := map[string]bool{}
	repCounts := map[string]map[string]int{}
	for {
		repeat := false
		for _, tag := range in.keys {
			if ignore[tag] || done[tag] {
				continue
			}
			orig, _ := tags.get(tag)
			value := pyStr(orig)
			origStr := value
			rplc := repCounts[tag]
			if rplc == nil {
				rplc = map[string]int{}
			}
			loc := tagRE.FindStringSubmatchIndex(value)
			for loc != nil {
				rtag := value[loc[2]:loc[3]]
				next := func(from int) []int {
					l := tagRE.FindStringSubmatchIndex(value[from:])
					if l == nil {
						return nil
					}
					for i := range l {
						l[i] += from
					}
					return l
				}
				if ignore[rtag] {
					loc = next(loc[1])
					continue
				}
				cnt, seen := rplc[rtag]
				if !seen {
					cnt = 1
				}
				if rtag == tag || cnt > maxTagReplace {
					return nil, fmt.Errorf("properties contain self referencing definitions and cannot be resolved, fail tag: %s, found: %s, value: %s", tag, rtag, value)
				}
				var repl any
				if conditional != "" {
					repl, _ = tags.get(rtag + "?" + conditional)
				}
				if repl == nil {
					repl, _ = tags.get(rtag)
				}
				if repl == nil && extra != nil {
					var err error
					if repl, err = extra(rtag); err != nil {
						return nil, err
					}
				}
				if repl == nil {
					loc = next(loc[1])
					continue
				}
				start := loc[0]
				value = strings.ReplaceAll(value, "<"+rtag+">", pyStr(repl))
				rplc[rtag]++
				loc = next(start)
			}
			if origStr != value {
				if tagRE.MatchString(value) {
					repCounts[tag] = rplc
					repeat = true
				}
				if tags == in {
					tags = in.clone()
				}
				tags.set(tag, value)
			}
			if !strings.Contains(value, "<") {
				done[tag] = true
			}
		}
		if !repeat {
			return tags, nil
		}
	}
}
