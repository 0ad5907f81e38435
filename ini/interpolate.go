package ini

import (
	"fmt"
	"regexp"
	"strings"
)

// maxDepth is configparser's MAX_INTERPOLATION_DEPTH.
const maxDepth = 10

// NoSectionError reports a missing section.
type NoSectionError struct{ Section string }

func (e *NoSectionError) Error() string { return fmt.Sprintf("no section: %q", e.Section) }

// NoOptionError reports a missing option.
type NoOptionError struct{ Section, Option string }

func (e *NoOptionError) Error() string {
	return fmt.Sprintf("no option %q in section %q", e.Option, e.Section)
}

// InterpolationError reports a "%(...)s" reference that cannot be resolved.
type InterpolationError struct {
	Pos             string // file:line of the value being interpolated
	Section, Option string
	Msg             string
}

func (e *InterpolationError) Error() string {
	msg := fmt.Sprintf("option %q in section %q: %s", e.Option, e.Section, e.Msg)
	if e.Pos != "" {
		return e.Pos + ": " + msg
	}
	return msg
}

var (
	interpKey     = regexp.MustCompile(`^%\(([^)]+)\)s`)
	sectionOptRef = regexp.MustCompile(`%\(([\w\-]+/([^\)]+))\)s`)
	sectionOptKey = regexp.MustCompile(`^([\w\-]+)/([^\s>]+)$`)
)

// lookup is configparser's chain of vars, section and DEFAULT, with an
// overlay for the names fail2ban adds while interpolating.
type lookup struct {
	overlay  map[string]string
	vars     map[string]string
	section  *Section
	defaults *Section
}

func (l *lookup) get(k string) (string, bool) {
	if v, ok := l.overlay[k]; ok {
		return v, true
	}
	if v, ok := l.vars[k]; ok {
		return v, true
	}
	if v, ok := l.section.Get(k); ok {
		return v.Raw, true
	}
	if v, ok := l.defaults.Get(k); ok {
		return v.Raw, true
	}
	return "", false
}

// Get returns the interpolated value of option in section, looking it up in
// vars, then the section, then DEFAULT (vars keys must be lower-case).
// Section "DEFAULT" reads DEFAULT alone.
func (c *Config) Get(section, option string, vars map[string]string) (string, error) {
	sec := c.sections[section]
	if sec == nil && section != DefaultSection {
		return "", &NoSectionError{Section: section}
	}
	l := &lookup{vars: vars, section: sec, defaults: c.Defaults}
	option = strings.ToLower(option)
	raw, ok := l.get(option)
	if !ok {
		return "", &NoOptionError{Section: section, Option: option}
	}
	pos := c.pos(sec, option)
	var b strings.Builder
	if err := c.interpolate(&b, option, raw, section, l, 1, pos); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Raw returns the uninterpolated value of option, from the section or DEFAULT.
func (c *Config) Raw(section, option string) (Value, bool) {
	if v, ok := c.sections[section].Get(option); ok {
		return v, true
	}
	return c.Defaults.Get(option)
}

func (c *Config) pos(sec *Section, option string) string {
	if v, ok := sec.Get(option); ok {
		return v.Pos()
	}
	if v, ok := c.Defaults.Get(option); ok {
		return v.Pos()
	}
	return ""
}

// GetEx is Get that also resolves "section/option" names: "known/x" from
// the value x had before the last override (else the current one),
// "default/x" from DEFAULT, "name/x" from section name; anything else falls
// back to Get(section, option, vars).
func (c *Config) GetEx(section, option string, vars map[string]string) (string, error) {
	if m := sectionOptKey.FindStringSubmatch(option); m != nil {
		sec, opt := m[1], m[2]
		var candidates []string
		switch strings.ToLower(sec) {
		case "known":
			candidates = []string{KnownPrefix + section, section}
		case "default":
			candidates = []string{DefaultSection}
		default:
			candidates = []string{sec}
		}
		for _, s := range candidates {
			v, err := c.Get(s, opt, nil)
			if err == nil {
				return v, nil
			}
			if !isMissing(err) {
				return "", err
			}
		}
	}
	return c.Get(section, option, vars)
}

func isMissing(err error) bool {
	switch err.(type) {
	case *NoSectionError, *NoOptionError:
		return true
	}
	return false
}

// interpolate expands "%%" and "%(name)s" in rest, recursively, within the
// context of section (configparser's BasicInterpolation with fail2ban's
// additions: __name__ and section/option references).
func (c *Config) interpolate(b *strings.Builder, option, rest, section string, l *lookup, depth int, pos string) error {
	if depth > maxDepth {
		return &InterpolationError{Pos: pos, Section: section, Option: option, Msg: "interpolation is nested too deeply (recursive reference?)"}
	}
	if section != "" {
		// fail2ban tests `__name__ in map` against its module name, which is
		// never a key: so every level gets __name__ and section/option names.
		overlay := make(map[string]string, len(l.overlay)+1)
		for k, v := range l.overlay {
			overlay[k] = v
		}
		overlay["__name__"] = section
		l = &lookup{overlay: overlay, vars: l.vars, section: l.section, defaults: l.defaults}
		c.mapSectionOptions(section, rest, l)
	}
	for rest != "" {
		p := strings.IndexByte(rest, '%')
		if p < 0 {
			b.WriteString(rest)
			return nil
		}
		b.WriteString(rest[:p])
		rest = rest[p:]
		switch {
		case strings.HasPrefix(rest, "%%"):
			b.WriteByte('%')
			rest = rest[2:]
		case strings.HasPrefix(rest, "%("):
			m := interpKey.FindStringSubmatch(rest)
			if m == nil {
				return &InterpolationError{Pos: pos, Section: section, Option: option, Msg: fmt.Sprintf("bad interpolation variable reference %q", rest)}
			}
			name := strings.ToLower(m[1])
			rest = rest[len(m[0]):]
			v, ok := l.get(name)
			if !ok {
				return &InterpolationError{Pos: pos, Section: section, Option: option, Msg: fmt.Sprintf("%%(%s)s is not defined", name)}
			}
			if strings.Contains(v, "%") {
				if err := c.interpolate(b, option, v, section, l, depth+1, pos); err != nil {
					return err
				}
			} else {
				b.WriteString(v)
			}
		default:
			return &InterpolationError{Pos: pos, Section: section, Option: option, Msg: fmt.Sprintf("'%%' must be followed by '%%' or '(', found: %q", rest)}
		}
	}
	return nil
}

// mapSectionOptions makes "%(sec/opt)s" references in rest resolvable by
// adding them to the overlay: known/ from the value before the last
// override (falling back to DEFAULT), default/ from DEFAULT, others from
// the named section.
func (c *Config) mapSectionOptions(section, rest string, l *lookup) {
	if !strings.Contains(rest, "/") || !strings.Contains(rest, "%(") {
		return
	}
	for _, m := range sectionOptRef.FindAllStringSubmatch(rest, -1) {
		sopt, opt := m[1], m[2]
		if _, ok := l.get(sopt); ok {
			continue
		}
		sec := sopt[:len(sopt)-len(opt)-1]
		var (
			v     Value
			found bool
		)
		switch strings.ToLower(sec) {
		case "default":
		case "known":
			v, found = c.sections[KnownPrefix+section].Get(opt)
		default:
			s := c.sections[sec]
			if s == nil {
				continue
			}
			v, found = s.Get(opt)
		}
		if !found {
			if v, found = c.Defaults.Get(opt); !found {
				continue
			}
		}
		l.overlay[sopt] = v.Raw
	}
}
