package command

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/f2bx/f2bx/config/fail2ban"
)

// maxTagReplace bounds recursive substitution, as fail2ban's
// MAX_TAG_REPLACE_COUNT.
const maxTagReplace = 25

var (
	tagRE    = regexp.MustCompile(`<([^ <>]+)>`)
	fTagRE   = regexp.MustCompile(`<F-([A-Z0-9_\-]+)>`)
	escapeRE = regexp.MustCompile("[\\\\#&;`|*?~<>^()\\[\\]{}$'\"\n\r]")
	nonWord  = regexp.MustCompile(`\W`)
)

// escapedTags come from log lines and are escaped even when an action
// sets them statically (fail2ban's _escapedTags).
var escapedTags = map[string]bool{"matches": true, "ipmatches": true, "ipjailmatches": true}

// props are an action's options in order, as fail2ban's properties dict.
type props struct {
	keys []string
	m    map[string]string
}

func newProps() *props { return &props{m: map[string]string{}} }

func (p *props) set(k, v string) {
	if _, ok := p.m[k]; !ok {
		p.keys = append(p.keys, k)
	}
	p.m[k] = v
}

func (p *props) get(k string) (string, bool) { v, ok := p.m[k]; return v, ok }

// specialFunc resolves the tags every command knows (fail2ban's ADD_REPL_TAGS).
type specialFunc func(tag string) (string, bool)

// replaceTag substitutes an action's options into query, as fail2ban's
// CommandAction.replaceTag.
func replaceTag(query string, p *props, conditional string, sp specialFunc) (string, error) {
	if !strings.Contains(query, "<") {
		return query, nil
	}
	sub, err := fail2ban.SubstituteTags(p.keys, p.m, conditional, escapedTags)
	if err != nil {
		return "", err
	}
	substVal := func(m string) string {
		tag := m[1 : len(m)-1]
		v, ok := "", false
		if conditional != "" {
			v, ok = sub[tag+"?"+conditional]
		}
		if !ok {
			v, ok = sub[tag]
		}
		if !ok {
			if s, ok := sp(tag); ok {
				return s
			}
			return m
		}
		if escapedTags[tag] {
			v = escapeTag(v)
		}
		return v
	}
	for count := maxTagReplace + 1; ; {
		value := tagRE.ReplaceAllStringFunc(query, substVal)
		if value == query || !strings.Contains(value, "<") {
			return value, nil
		}
		query = value
		if count--; count <= 0 {
			return "", fmt.Errorf("unexpected too long replacement interpolation, possible self referencing definitions in query: %s", query)
		}
	}
}

// escapeTag backslash-escapes shell metacharacters (fail2ban's escapeTag).
func escapeTag(v string) string {
	return escapeRE.ReplaceAllStringFunc(v, func(c string) string {
		switch c {
		case "\n":
			return `\n`
		case "\r":
			return `\r`
		}
		return `\` + c
	})
}

// Script is a shell command and the values it reads as positional
// parameters: values from log lines never become shell text.
type Script struct {
	Cmd  string
	Args []string
}

// dynamic are the values of one ticket (fail2ban's ActionInfo).
type dynamic interface {
	get(tag string) (string, bool)
	field(name string) (string, bool)
}

// replaceDynamic substitutes a ticket's values, once, without recursion: a
// value with any shell metacharacter becomes a variable set from a
// positional parameter (fail2ban's replaceDynamicTags and buildShellCmd).
func replaceDynamic(cmd string, d dynamic, sp specialFunc) Script {
	var names, values []string
	index := map[string]int{}
	escapeVal := func(tag, v string) string {
		if !escapeRE.MatchString(v) {
			return v
		}
		name := "f2bV_" + nonWord.ReplaceAllString(tag, "_")
		if i, ok := index[name]; ok {
			values[i] = v
		} else {
			index[name] = len(names)
			names = append(names, name)
			values = append(values, v)
		}
		return "$" + name
	}
	cmd = tagRE.ReplaceAllStringFunc(cmd, func(m string) string {
		tag := m[1 : len(m)-1]
		v, ok := d.get(tag)
		if !ok {
			if s, ok := sp(tag); ok {
				return s
			}
			return m
		}
		return escapeVal(tag, v)
	})
	if strings.Contains(cmd, "<") {
		cmd = fTagRE.ReplaceAllStringFunc(cmd, func(m string) string {
			tag := mapTag2Opt(m[3 : len(m)-1])
			v, ok := d.field(tag)
			if !ok {
				return ""
			}
			return escapeVal("F_"+tag, v)
		})
	}
	if len(names) == 0 {
		return Script{Cmd: cmd}
	}
	var vars strings.Builder
	for i, n := range names {
		fmt.Fprintf(&vars, "%s=$%d ", n, i)
	}
	return Script{Cmd: vars.String() + "\n" + cmd, Args: values}
}

func mapTag2Opt(tag string) string {
	tag = strings.ToLower(tag)
	switch tag {
	case "id":
		return "fid"
	case "port":
		return "fport"
	}
	return tag
}
