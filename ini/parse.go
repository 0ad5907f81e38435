package ini

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultSection is the name of the section whose options every other
// section inherits.
const DefaultSection = "DEFAULT"

// File is one parsed configuration file.
type File struct {
	Path     string
	Defaults *Section
	sections []*Section
	byName   map[string]*Section
}

// Sections returns the file's sections (not DEFAULT) in file order.
func (f *File) Sections() []*Section { return f.sections }

// Section returns the named section, or nil.
func (f *File) Section(name string) *Section { return f.byName[name] }

// Error is a configuration error at a place in a file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.File == "" {
		return e.Msg
	}
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Parse reads data as Python's configparser does with fail2ban's settings:
// "=" and ":" delimiters, "#" and ";" comment lines, inline comments after
// whitespace and ";", indented continuation lines, blank lines kept inside
// values, lower-cased option names, and duplicate sections or options in
// one file rejected. Every problem is reported with path:line.
func Parse(path string, data []byte) (*File, error) {
	if !utf8.Valid(data) {
		return nil, &Error{File: path, Msg: "not valid UTF-8"}
	}
	f := &File{Path: path, Defaults: NewSection(DefaultSection), byName: map[string]*Section{}}
	f.Defaults.File = path

	type pending struct {
		sec   *Section
		name  string
		lines []string
		line  int
	}
	var (
		cur         *Section
		opt         *pending
		indentLevel int
		added       = map[string]bool{}
		errs        []error
	)
	flush := func() {
		if opt != nil {
			val := strings.Join(opt.lines, "\n")
			val = strings.TrimRightFunc(val, isPySpace)
			opt.sec.Set(opt.name, Value{Raw: val, File: path, Line: opt.line})
		}
	}
	for i, line := range splitLines(string(data)) {
		lineno := i + 1
		commentStart := -1
		if idx := inlineComment(line); idx >= 0 {
			commentStart = idx
		}
		if t := strings.TrimFunc(line, isPySpace); strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
			commentStart = 0
		}
		value := line
		if commentStart >= 0 {
			value = line[:commentStart]
		}
		value = strings.TrimFunc(value, isPySpace)
		if value == "" {
			if commentStart < 0 && cur != nil && opt != nil {
				opt.lines = append(opt.lines, "")
			}
			continue
		}
		indent := leadingSpaceRunes(line)
		if cur != nil && opt != nil && indent > indentLevel {
			opt.lines = append(opt.lines, value)
			continue
		}
		indentLevel = indent
		if name, ok := sectionHeader(value); ok {
			flush()
			opt = nil
			switch {
			case f.byName[name] != nil:
				return nil, &Error{File: path, Line: lineno, Msg: fmt.Sprintf("section %q already exists", name)}
			case name == DefaultSection:
				cur = f.Defaults
			default:
				cur = NewSection(name)
				cur.File, cur.Line = path, lineno
				f.byName[name] = cur
				f.sections = append(f.sections, cur)
			}
			continue
		}
		if cur == nil {
			return nil, &Error{File: path, Line: lineno, Msg: fmt.Sprintf("file contains no section headers: %q", strings.TrimRight(line, "\n"))}
		}
		name, val, ok := splitOption(value)
		if !ok {
			errs = append(errs, &Error{File: path, Line: lineno, Msg: fmt.Sprintf("expected 'name = value', got %q", value)})
			continue
		}
		if name == "" {
			errs = append(errs, &Error{File: path, Line: lineno, Msg: fmt.Sprintf("option without a name: %q", value)})
		}
		name = strings.ToLower(name)
		key := cur.Name + "\x00" + name
		if added[key] {
			return nil, &Error{File: path, Line: lineno, Msg: fmt.Sprintf("option %q in section %q already exists", name, cur.Name)}
		}
		added[key] = true
		flush()
		opt = &pending{sec: cur, name: name, lines: []string{val}, line: lineno}
	}
	flush()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

// splitLines splits as Python's universal-newline text mode does, keeping
// no terminators.
func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// inlineComment returns the byte offset of the first ";" that starts the
// line or follows whitespace, or -1.
func inlineComment(line string) int {
	prev := rune(-1)
	for i, r := range line {
		if r == ';' && (i == 0 || isPySpace(prev)) {
			return i
		}
		prev = r
	}
	return -1
}

// sectionHeader matches configparser's permissive "[...]" header: from the
// first "[" to the last "]", anything after it ignored.
func sectionHeader(v string) (string, bool) {
	if !strings.HasPrefix(v, "[") {
		return "", false
	}
	end := strings.LastIndex(v, "]")
	if end < 2 {
		return "", false
	}
	return v[1:end], true
}

// splitOption splits "name = value" at the first "=" or ":".
func splitOption(v string) (name, val string, ok bool) {
	i := strings.IndexAny(v, "=:")
	if i < 0 {
		return "", "", false
	}
	name = strings.TrimRightFunc(v[:i], isPySpace)
	val = strings.TrimFunc(v[i+1:], isPySpace)
	return name, val, true
}

func leadingSpaceRunes(line string) int {
	n := 0
	for _, r := range line {
		if !isPySpace(r) {
			return n
		}
		n++
	}
	return 0
}

// isPySpace is Python's str.isspace for one character.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}
