package date

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// defaultPatterns are the date formats fail2ban tries when a filter sets no
// datepattern, in its order.
var defaultPatterns = []string{
	`%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?`,
	`(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
	`(?:%a )?%b %d %ExY %k:%M:%S(?:\.%f)?`,
	`%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S`,
	`%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\.%f)?(?: %z)?`,
	`%m/%d/%ExY:%H:%M:%S`,
	`%m-%d-%ExY %k:%M:%S(?:\.%f)?`,
	`EPOCH`,
	`{^LN-BEG}%H:%M:%S`,
	`^<%m/%d/%Exy@%H:%M:%S>`,
	`%Exy%Exm%Exd  ?%H:%M:%S`,
	`%b %d, %ExY %I:%M:%S %p`,
	`^%b-%d-%Exy %k:%M:%S`,
	`%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\s*%z)?`,
	`(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
	`(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
	`TAI64N`,
}

// Detector finds the date of log lines with a list of templates.
type Detector struct {
	Templates []*Template
	// Loc is the local time zone for times without a zone.
	Loc *time.Location
	// DefaultTZ is logtimezone in minutes east of UTC, nil for local.
	DefaultTZ *int
	// Now is the clock, for years and days a line leaves out.
	Now func() time.Time
	// Hits counts the matches of each template.
	Hits []int
	// frozen, when set, stands for Now (see Freeze).
	frozen time.Time
	fv     fields // scratch for one match
	best   fields
	last   int // the template that matched last, +1 (0: none)
	// The time of the last date text: the same text (lines of the same
	// second) within the same second of "now" gives the same time.
	cache struct {
		tmpl      int
		text      string
		fields    [fValue]string // a strptime template's fields
		sec       int64
		t         time.Time
		err       error
		populated bool
	}
}

// Options configure a Detector.
type Options struct {
	Now func() time.Time
	// Today is the real date, for the range of plausible years of %ExY
	// (fail2ban takes it from the wall clock even when "now" is faked);
	// time.Now when nil.
	Today func() time.Time
	// AnyYear makes %ExY accept years from 1969 on, as fail2ban-regex
	// does; otherwise from 2000.
	AnyYear  bool
	Loc      *time.Location
	TimeZone string // logtimezone
}

var datePrematch = regexp.MustCompile(`(?i)\{DATE\}`)

// New builds a detector for a filter's datepattern: lines of patterns,
// "" or "{DEFAULT}" for fail2ban's default templates, "{^LN-BEG}" for
// those at the start of a line, a pattern with "{DATE}" for every default
// template in its place, "{NONE}" for no date.
func New(datepattern string, o Options) (*Detector, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Loc == nil {
		o.Loc = time.Local
	}
	d := &Detector{Loc: o.Loc, Now: o.Now}
	if o.TimeZone != "" {
		off, err := ParseZone(o.TimeZone)
		if err != nil {
			return nil, err
		}
		d.DefaultTZ = &off
	}
	if o.Today == nil {
		o.Today = time.Now
	}
	now := o.Today()
	if n := o.Now(); n.After(now) {
		now = n
	}
	first := 2000
	if o.AnyYear {
		first = 1969
	}
	var lines []string
	for _, l := range strings.Split(datepattern, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		lines = []string{"{DEFAULT}"}
	}
	seen := map[string]bool{}
	add := func(t *Template, ignoreDup bool) error {
		if seen[t.Name] {
			if ignoreDup {
				return nil
			}
			return fmt.Errorf("there is already a template with name %s", t.Name)
		}
		seen[t.Name] = true
		d.Templates = append(d.Templates, t)
		return nil
	}
	for _, l := range lines {
		key := l
		if !strings.Contains(l, "%") {
			key = strings.ToUpper(l)
		}
		switch {
		case key == "{DEFAULT}" || key == "{^LN-BEG}":
			ts, err := defaultTemplates(now, first)
			if err != nil {
				return nil, err
			}
			dup := len(d.Templates) > 0
			for _, t := range ts {
				if key == "{^LN-BEG}" && t.flags&lineBegin == 0 {
					continue
				}
				if err := add(t, dup); err != nil {
					return nil, err
				}
			}
		case strings.Contains(key, "{DATE}"):
			dup := len(d.Templates) > 0
			for _, p := range defaultPatterns {
				t, err := sharedTemplate(p, now, first)
				if err != nil {
					return nil, err
				}
				wrapped := datePrematch.ReplaceAllLiteralString(l, unboundPattern(patternOf(t)))
				w, err := sharedTemplate(wrapped, now, first)
				if err != nil {
					return nil, err
				}
				if err := add(w, dup); err != nil {
					return nil, err
				}
			}
		default:
			t, err := sharedTemplate(l, now, first)
			if err != nil {
				return nil, err
			}
			if err := add(t, false); err != nil {
				return nil, err
			}
		}
	}
	d.Hits = make([]int, len(d.Templates))
	return d, nil
}

// patternOf is what a template is rebuilt from when wrapped: its
// datepattern, or for EPOCH and TAI64N its name.
func patternOf(t *Template) string {
	if t.kind == kindPattern {
		return t.Pattern
	}
	return t.Name
}

var (
	reExlineNoBounds = regexp.MustCompile(`^\{UNB\}`)
	reExlineBoundBeg = regexp.MustCompile(`^\{\^LN-BEG\}`)
	reExsancBoundBeg = regexp.MustCompile(`^\((?:\?:)?\^\|\\b\|\\W\)`)
	reExeancBoundBeg = regexp.MustCompile(`\(\?=\\b\|\\W\|\$\)$`)
)

// unboundPattern strips the boundary markers from a pattern.
func unboundPattern(p string) string {
	p = reExlineNoBounds.ReplaceAllString(p, "")
	p = reExlineBoundBeg.ReplaceAllString(p, "")
	p = reExsancBoundBeg.ReplaceAllString(p, "")
	return reExeancBoundBeg.ReplaceAllString(p, "")
}

// defaultTemplates returns fail2ban's default list: a start-of-line
// variant of every template that is not anchored already, then all the
// templates.
func defaultTemplates(now time.Time, first int) ([]*Template, error) {
	var anchored, plain []*Template
	for _, p := range defaultPatterns {
		t, err := sharedTemplate(p, now, first)
		if err != nil {
			return nil, fmt.Errorf("default template %q: %w", p, err)
		}
		if !strings.HasPrefix(t.Name, "{^LN-BEG}") && !strings.HasPrefix(t.Name, "^") {
			a, err := sharedTemplate("{^LN-BEG}"+patternOf(t), now, first)
			if err != nil {
				return nil, fmt.Errorf("default template {^LN-BEG}%q: %w", p, err)
			}
			if a.Name != t.Name {
				anchored = append(anchored, a)
			}
		}
		plain = append(plain, t)
	}
	return append(anchored, plain...), nil
}

// Found is a date found in a line.
type Found struct {
	// Start and End delimit the date text, which fail2ban cuts out of the
	// line before matching the failregexes.
	Start, End int
	// Time is the date; zero when the text did not make a valid date.
	Time time.Time
	// Template is the index of the template that matched.
	Template int
}

// Match finds the date in line: the first start-of-line template that
// matches, else the match nearest the start of the line.
func (d *Detector) Match(line string) (Found, bool) {
	best, bestIdx := -1, -1
	var bestStart, bestEnd int
	// As fail2ban: the template anchored at the line start that matched the
	// last line is tried first.
	if d.last > 0 {
		i := d.last - 1
		if t := d.Templates[i]; t.Anchored() {
			if s, e, ok := t.match(line, &d.fv); ok {
				return d.found(i, s, e, &d.fv, line)
			}
		}
	}
	for i, t := range d.Templates {
		s, e, ok := t.match(line, &d.fv)
		if !ok {
			continue
		}
		if t.Anchored() || s <= 1 {
			best, bestIdx, bestStart, bestEnd, d.best = s, i, s, e, d.fv
			break
		}
		if best < 0 || s < best {
			best, bestIdx, bestStart, bestEnd, d.best = s, i, s, e, d.fv
		}
	}
	if bestIdx < 0 {
		return Found{}, false
	}
	return d.found(bestIdx, bestStart, bestEnd, &d.best, line)
}

// Freeze makes t "now" for the matches that follow, until Freeze with
// the zero time: one reading of the clock for a batch of lines read at
// once.
func (d *Detector) Freeze(t time.Time) { d.frozen = t }

func (d *Detector) now() time.Time {
	if !d.frozen.IsZero() {
		return d.frozen
	}
	return d.Now()
}

func (d *Detector) found(i, start, end int, fv *fields, line string) (Found, bool) {
	d.Hits[i]++
	d.last = i + 1
	f := Found{Start: start, End: end, Template: i}
	if start == end {
		return f, true
	}
	t, err := d.cachedTime(i, line[start:end], fv)
	if err == nil {
		f.Time = t
	}
	return f, true
}

// cachedTime is templateTime, remembering the last answer. The year and
// day a date leaves out are inferred by comparing whole-second times with
// now, so within one second of now the same text gives the same time.
// A strptime template's time depends on its fields alone: dates that
// differ only in what fail2ban ignores (a fraction of a second) share it.
func (d *Detector) cachedTime(i int, text string, fv *fields) (time.Time, error) {
	sec := d.now().Unix()
	c := &d.cache
	byFields := d.Templates[i].kind == kindPattern
	if c.populated && c.tmpl == i && c.sec == sec {
		if c.text == text || byFields && sameFields(&c.fields, fv) {
			return c.t, c.err
		}
	}
	t, err := d.templateTime(d.Templates[i], fv)
	c.tmpl, c.text, c.sec, c.t, c.err, c.populated = i, text, sec, t, err, true
	if byFields {
		c.fields = [fValue]string(fv[:fValue])
	}
	return t, err
}

// sameFields reports whether a's fields equal fv's: lengths first, most
// being empty in both.
func sameFields(a *[fValue]string, fv *fields) bool {
	for k := range fValue {
		x, y := a[k], fv[k]
		if len(x) != len(y) {
			return false
		}
		if len(x) > 0 && x != y {
			return false
		}
	}
	return true
}

func (d *Detector) templateTime(t *Template, fv *fields) (time.Time, error) {
	switch t.kind {
	case kindEpoch, kindLongEpoch:
		v := strings.TrimPrefix(fv[fValue], "[")
		f, err := strconv.ParseFloat(epochDigits(v), 64)
		if err != nil {
			return time.Time{}, err
		}
		if t.kind == kindLongEpoch && len(v) >= 13 {
			if len(v) >= 16 && !strings.Contains(v, ".") {
				f /= 1e6
			} else {
				f /= 1e3
			}
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), nil
	case kindTAI64N:
		v := fv[fValue]
		if len(v) < 17 {
			return time.Time{}, fmt.Errorf("short TAI64N %q", v)
		}
		n, err := strconv.ParseInt(v[2:17], 16, 64)
		if err != nil {
			return time.Time{}, err
		}
		return time.Unix(n, 0), nil
	}
	return fieldsTime(fv, d.now(), d.Loc, d.DefaultTZ)
}

var epochNumber = regexp.MustCompile(`\d{10,}(?:\.\d+)?`)

func epochDigits(s string) string {
	if m := epochNumber.FindString(s); m != "" {
		return m
	}
	return s
}
