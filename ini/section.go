// Package ini reads the INI dialect of Python's configparser as fail2ban
// configures it (inline ";" comments, strict duplicates, "%(name)s"
// interpolation) and merges several files the way fail2ban layers them.
//
// It knows nothing about jails, filters or actions: that is the job of the
// fail2ban configuration reader built on top of it.
package ini

import "strconv"

// Value is one option's raw (uninterpolated) text and where it was defined.
type Value struct {
	Raw  string
	File string
	Line int
}

// Pos returns "file:line" for error messages, or "" when unknown.
func (v Value) Pos() string {
	if v.File == "" {
		return ""
	}
	return v.File + ":" + strconv.Itoa(v.Line)
}

// Section is an ordered set of options. Setting an existing option keeps
// its position, as a Python dict does.
type Section struct {
	Name string
	File string
	Line int
	keys []string
	vals map[string]Value
}

// NewSection returns an empty section.
func NewSection(name string) *Section {
	return &Section{Name: name, vals: map[string]Value{}}
}

// Get returns the value of option k.
func (s *Section) Get(k string) (Value, bool) {
	if s == nil {
		return Value{}, false
	}
	v, ok := s.vals[k]
	return v, ok
}

// Has reports whether option k is set.
func (s *Section) Has(k string) bool {
	_, ok := s.Get(k)
	return ok
}

// Set sets option k, appending it when new.
func (s *Section) Set(k string, v Value) {
	if _, ok := s.vals[k]; !ok {
		s.keys = append(s.keys, k)
	}
	s.vals[k] = v
}

// Keys returns the option names in insertion order.
func (s *Section) Keys() []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s.keys...)
}

// Clone returns a copy that shares no state with s.
func (s *Section) Clone() *Section {
	c := NewSection(s.Name)
	c.File, c.Line = s.File, s.Line
	for _, k := range s.keys {
		c.Set(k, s.vals[k])
	}
	return c
}

// Update sets every option of o in s, in o's order.
func (s *Section) Update(o *Section) {
	for _, k := range o.keys {
		s.Set(k, o.vals[k])
	}
}
