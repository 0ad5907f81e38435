// Package samples checks filters against annotated sample logs in
// fail2ban's format: a "# failJSON: {...}" line describes the log line
// that follows it (does it match, with which host, time, user, ...),
// "# filterOptions: [...]" runs the lines below with each set of filter
// parameters, and unannotated lines must not match.
package samples

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Zurich, the zone of the sample times

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/filter"
)

var annotationRE = regexp.MustCompile(`^#+ ?(failJSON|(?:file|filter)Options|addFILE):(.+)$`)

type filterTest struct {
	name string
	flt  *filter.Filter
	opts map[string]any
}

// Result counts the annotations of one sample file.
type Result struct {
	Pass, Fail int
	Failures   []string
	// Uncovered are the failregexes no sample matched (fail2ban's harness
	// requires every one to have a sample); also counted in Fail and
	// listed in Failures.
	Uncovered []string
}

// Loader compiles the filter under test with the given parameters
// (filterOptions), as fail2ban's sample test does: every failregex
// checked, DNS names kept raw, lines without date accepted.
type Loader func(params [][2]string) (config.Filter, error)

// Now is the "now" of fail2ban's sample tests (Sun Aug 14 12:00:00 CEST
// 2005); Zone is their time zone.
const (
	Now  = 1124013600
	Zone = "Europe/Zurich"
)

// Run checks the annotated sample file logs/name with the filter load
// gives, as fail2ban's sample test does: every "# failJSON:" annotation
// (match, host, time, user, users, attempts and any other field), every
// unannotated line unmatched, and every failregex matched by a sample.
func Run(t testing.TB, logs, name string, load Loader) Result {
	var res Result
	loc, err := time.LoadLocation(Zone)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(Now, 0)
	cache := map[string]*filter.Filter{}
	get := func(key string, params [][2]string) (*filter.Filter, error) {
		if f, ok := cache[key]; ok {
			return f, nil
		}
		c, err := load(params)
		if err != nil {
			return nil, err
		}
		c.UseDNS = "warn" // the sample tests ignore usedns
		f, err := filter.New(c, filter.Options{Now: func() time.Time { return now }, Loc: loc, CheckAll: true, RawHost: true, AcceptNoDate: true})
		if err != nil {
			return nil, err
		}
		cache[key] = f
		return f, nil
	}
	files := []string{name}
	var tests []filterTest
	var common map[string]any
	for fi := 0; fi < len(files); fi++ {
		data, err := os.ReadFile(filepath.Join(logs, files[fi]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		lines := splitSampleLines(data)
		ignoreBlock := false
		for ln := 0; ln < len(lines); ln++ {
			line := lines[ln]
			var faildata map[string]any
			if m := annotationRE.FindStringSubmatch(line); m != nil {
				switch m[1] {
				case "fileOptions":
					common = decodeObject(t, m[2])
					continue
				case "filterOptions":
					tests, ignoreBlock = nil, false
					for _, opts := range decodeOptionList(t, m[2]) {
						merged := ordered{}
						merged.update(common)
						merged.updateOrdered(opts)
						if c, ok := merged.m["test.condition"].(string); ok {
							ignoreBlock = !evalCondition(t, c, name, nil)
						}
						if ignoreBlock {
							continue
						}
						var params [][2]string
						for _, k := range merged.keys {
							if !strings.HasPrefix(k, "test.") {
								params = append(params, [2]string{k, fmt.Sprint(merged.m[k])})
							}
						}
						key := fmt.Sprint(params)
						if n, ok := merged.m["test.filter-name"].(string); ok {
							key = n
						}
						f, err := get(key, params)
						if err != nil {
							t.Errorf("%s: %v", name, err)
							return res
						}
						tests = append(tests, filterTest{name: key, flt: f, opts: merged.m})
					}
					continue
				case "addFILE":
					var f string
					json.Unmarshal([]byte(m[2]), &f)
					files = append(files, f)
					continue
				}
				faildata = decodeObject(t, m[2])
				if ln+1 >= len(lines) {
					break
				}
				ln++
				line = lines[ln]
			} else if ignoreBlock || strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
				continue
			} else {
				faildata = map[string]any{}
			}
			if ignoreBlock {
				continue
			}
			if len(tests) == 0 {
				f, err := get(name, nil)
				if err != nil {
					t.Errorf("%s: %v", name, err)
					return res
				}
				tests = []filterTest{{name: name, flt: f, opts: map[string]any{}}}
			}
			line = strings.TrimRight(line, "\r\n")
			for _, ft := range tests {
				if c, ok := faildata["constraint"].(string); ok && !evalCondition(t, c, name, ft.opts) {
					continue
				}
				if msg := checkSample(ft, line, faildata, now, loc); msg != "" {
					res.Fail++
					res.Failures = append(res.Failures, fmt.Sprintf("%s:%d (%s): %s\n    line: %s", files[fi], ln+1, ft.name, msg, line))
				} else {
					res.Pass++
				}
			}
		}
	}
	// As fail2ban's harness: every failregex has a sample that matched it
	// (in any of the filter's variants).
	used := map[string]bool{}
	for _, f := range cache {
		for i, n := range f.FailCounts {
			if n > 0 {
				used[f.Fail[i].Source] = true
			}
		}
	}
	for key, f := range cache {
		for i, n := range f.FailCounts {
			if n == 0 && !used[f.Fail[i].Source] {
				msg := fmt.Sprintf("%s: failregex %d has no sample: %s", key, i, f.Fail[i].Source)
				res.Fail++
				res.Failures = append(res.Failures, msg)
				res.Uncovered = append(res.Uncovered, msg)
			}
		}
	}
	return res
}

// checkSample processes one line and compares it with its annotation;
// it returns what differs, or "".
func checkSample(ft filterTest, line string, want map[string]any, now time.Time, loc *time.Location) string {
	var got []filter.Failure
	if ft.opts["logtype"] == "journal" {
		if p, ok := ft.opts["test.prefix-line"].(string); ok {
			line = p + line
		}
		got = ft.flt.ProcessLineAt(line, now)
	} else {
		got = ft.flt.ProcessLine(line)
	}
	var found []filter.Failure
	for _, f := range got {
		if f.ID != "" && !f.NoFail() {
			found = append(found, f)
		}
	}
	match, _ := want["match"].(bool)
	if len(found) == 0 {
		if match {
			return "not matched, should have"
		}
		return ""
	}
	if !match {
		return fmt.Sprintf("matched (regex %d, id %q), should not have", found[0].Regex, found[0].ID)
	}
	if len(found) != 1 {
		return fmt.Sprintf("%d regexes matched", len(found))
	}
	f := found[0]
	for k, v := range want {
		switch k {
		case "time", "match", "desc", "constraint":
			continue
		}
		var gotv any = f.Fields.Get(k)
		if gotv == nil {
			switch k {
			case "host":
				gotv = f.ID
			case "attempts":
				gotv = len(f.Fields.Strings("matches"))
			}
		}
		if k == "host" && sameAddr(fmt.Sprint(gotv), fmt.Sprint(v)) {
			continue
		}
		if !sampleEqual(gotv, v) {
			return fmt.Sprintf("%s = %#v, want %#v", k, gotv, v)
		}
	}
	if ts, ok := want["time"].(string); ok {
		wt, err := parseAnnotationTime(ts, loc)
		if err != nil {
			return err.Error()
		}
		if !f.Time.Equal(wt) {
			return fmt.Sprintf("time %s, want %s", f.Time.In(loc).Format(time.RFC3339Nano), wt.Format(time.RFC3339Nano))
		}
	}
	return ""
}

// sameAddr compares two addresses as fail2ban's IPAddr does: parsed.
func sameAddr(a, b string) bool {
	x, err1 := netip.ParseAddr(a)
	y, err2 := netip.ParseAddr(b)
	return err1 == nil && err2 == nil && x.Unmap() == y.Unmap()
}

var annotationTimeRE = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?$`)

// parseAnnotationTime reads "%Y-%m-%dT%H:%M:%S[.%f]" as Python's strptime
// does (one-digit fields allowed), in loc.
func parseAnnotationTime(s string, loc *time.Location) (time.Time, error) {
	m := annotationTimeRE.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("bad annotation time %q", s)
	}
	n := make([]int, 7)
	for i := 1; i <= 6; i++ {
		n[i-1], _ = strconv.Atoi(m[i])
	}
	if m[7] != "" {
		frac := m[7] + strings.Repeat("0", 6-len(m[7]))
		n[6], _ = strconv.Atoi(frac)
	}
	return time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], n[6]*1000, loc), nil
}

func sampleEqual(got, want any) bool {
	switch w := want.(type) {
	case []any:
		g, ok := got.([]string)
		if !ok || len(g) != len(w) {
			return false
		}
		ws := make([]string, len(w))
		for i, x := range w {
			ws[i] = fmt.Sprint(x)
		}
		gs := append([]string(nil), g...)
		sort.Strings(ws)
		sort.Strings(gs)
		return fmt.Sprint(ws) == fmt.Sprint(gs)
	case float64:
		switch g := got.(type) {
		case int:
			return float64(g) == w
		case string:
			return g == fmt.Sprint(w)
		}
		return false
	case nil:
		return got == nil
	}
	return fmt.Sprint(got) == fmt.Sprint(want)
}

// conditionRE matches the Python expressions the samples use:
// name == 'x', opts.get('k') == 'v', their != forms, and "in ('a', 'b')".
var conditionRE = regexp.MustCompile(`^\s*(name|opts\.get\('([^']+)'\))\s*(==|!=|in)\s*(?:'([^']*)'|\(((?:\s*'[^']*'\s*,?)+)\))\s*$`)

func evalCondition(t testing.TB, expr, name string, opts map[string]any) bool {
	m := conditionRE.FindStringSubmatch(expr)
	if m == nil {
		t.Fatalf("cannot evaluate sample condition %q", expr)
	}
	v := name
	if m[1] != "name" {
		s, _ := opts[m[2]].(string)
		v = s
	}
	if m[3] == "in" {
		for _, q := range regexp.MustCompile(`'([^']*)'`).FindAllStringSubmatch(m[5], -1) {
			if q[1] == v {
				return true
			}
		}
		return false
	}
	return (v == m[4]) == (m[3] == "==")
}

// splitSampleLines splits a sample file into lines, decoding it as UTF-8
// with invalid bytes replaced.
func splitSampleLines(data []byte) []string {
	data = bytes.ToValidUTF8(data, []byte("\uFFFD"))
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func decodeObject(t testing.TB, s string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("annotation %q: %v", s, err)
	}
	return m
}

// ordered is a JSON object with its key order (filter options are
// parameters, and their order matters as in Python).
type ordered struct {
	keys []string
	m    map[string]any
}

func (o *ordered) set(k string, v any) {
	if o.m == nil {
		o.m = map[string]any{}
	}
	if _, ok := o.m[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.m[k] = v
}

func (o *ordered) update(m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o.set(k, m[k])
	}
}

func (o *ordered) updateOrdered(p ordered) {
	for _, k := range p.keys {
		o.set(k, p.m[k])
	}
}

// decodeOptionList decodes a filterOptions value: one object or a list.
func decodeOptionList(t testing.TB, s string) []ordered {
	dec := json.NewDecoder(strings.NewReader(s))
	tok, err := dec.Token()
	if err != nil {
		t.Fatalf("filterOptions %q: %v", s, err)
	}
	var out []ordered
	readObject := func() ordered {
		var o ordered
		for dec.More() {
			k, _ := dec.Token()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("filterOptions %q: %v", s, err)
			}
			o.set(k.(string), v)
		}
		dec.Token() // }
		return o
	}
	if tok == json.Delim('[') {
		for dec.More() {
			if d, _ := dec.Token(); d != json.Delim('{') {
				t.Fatalf("filterOptions %q: expected objects", s)
			}
			out = append(out, readObject())
		}
		return out
	}
	return []ordered{readObject()}
}
