package ini

import (
	"regexp"
	"strings"
)

// KnownPrefix names the hidden sections that keep the values a later file
// overrode, for "%(known/x)s" and "<known/x>".
const KnownPrefix = "KNOWN/"

// conditionalName matches a conditional section or option name such as
// "Init?family=inet6".
var conditionalName = regexp.MustCompile(`^(\w+)(\?.+)$`)

// SplitConditional splits "name?cond" into "name" and "?cond"; ok is false
// for a plain name.
func SplitConditional(name string) (base, cond string, ok bool) {
	m := conditionalName.FindStringSubmatch(name)
	if m == nil {
		return name, "", false
	}
	return m[1], m[2], true
}

// Config is several files merged in order, as fail2ban merges a ".conf"
// with its ".d" files, its ".local" and its includes: later values win, the
// value a later file replaced stays reachable as known/, and options of a
// conditional section "[Init?family=inet6]" are merged into "[Init]" as
// "option?family=inet6".
type Config struct {
	Defaults *Section
	order    []string
	sections map[string]*Section
}

// NewConfig returns an empty configuration.
func NewConfig() *Config {
	return &Config{Defaults: NewSection(DefaultSection), sections: map[string]*Section{}}
}

// Merge merges one parsed file into c.
func (c *Config) Merge(f *File) {
	c.Defaults.Update(f.Defaults)
	for _, s := range f.sections {
		name := s.Name
		if base, cond, ok := SplitConditional(name); ok {
			renamed := NewSection(base)
			renamed.File, renamed.Line = s.File, s.Line
			for _, k := range s.keys {
				renamed.Set(k+cond, s.vals[k])
			}
			name, s = base, renamed
		}
		if old := c.sections[name]; old != nil {
			known := NewSection(KnownPrefix + name)
			for _, k := range old.keys {
				if s.Has(k) {
					known.Set(k, old.vals[k])
				}
			}
			c.MergeSection(KnownPrefix+name, known, "")
			old.Update(s)
			continue
		}
		cl := s.Clone()
		cl.Name = name
		c.addSection(cl)
	}
}

func (c *Config) addSection(s *Section) {
	c.order = append(c.order, s.Name)
	c.sections[s.Name] = s
}

// MergeSection sets options in the named section, creating it when needed.
// With a prefix, each option name not already carrying it is prefixed.
func (c *Config) MergeSection(name string, opts *Section, prefix string) {
	sec := c.sections[name]
	if sec == nil {
		sec = NewSection(name)
		c.addSection(sec)
	}
	for _, k := range opts.keys {
		if prefix == "" {
			sec.Set(k, opts.vals[k])
		} else if !strings.HasPrefix(k, prefix) && k != "__name__" {
			sec.Set(prefix+k, opts.vals[k])
		}
	}
}

// Sections returns the section names in order of first appearance,
// without the hidden known/ sections.
func (c *Config) Sections() []string {
	var out []string
	for _, n := range c.order {
		if !strings.HasPrefix(n, KnownPrefix) {
			out = append(out, n)
		}
	}
	return out
}

// Section returns the named section (known/ sections included), or nil.
func (c *Config) Section(name string) *Section { return c.sections[name] }

// HasSection reports whether the section exists.
func (c *Config) HasSection(name string) bool { return c.sections[name] != nil }

// HasOption reports whether the section (or, with withDefault, DEFAULT)
// sets the option.
func (c *Config) HasOption(section, option string, withDefault bool) bool {
	if s := c.sections[section]; s != nil && s.Has(option) {
		return true
	}
	return withDefault && c.Defaults.Has(option)
}

// Options returns the section's own option names in order, followed, with
// withDefault, by DEFAULT's names it does not set itself.
func (c *Config) Options(section string, withDefault bool) ([]string, error) {
	s := c.sections[section]
	if s == nil {
		return nil, &NoSectionError{Section: section}
	}
	keys := s.Keys()
	if withDefault {
		for _, k := range c.Defaults.keys {
			if !s.Has(k) {
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}
