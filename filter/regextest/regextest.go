// Package regextest is fail2ban-regex: it runs a filter (a fail2ban
// filter, one of f2bx's own, or a regex given on the command line) over a
// log file or a line and reports what matched, in fail2ban-regex's format
// or as selected fields (-o).
package regextest

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/fail2ban"
	"github.com/f2bx/f2bx/config/native"
	"github.com/f2bx/f2bx/filter"
	"github.com/f2bx/f2bx/filter/dns"
)

// Options are fail2ban-regex's options.
type Options struct {
	ConfDir                                                                         string // -c: fail2ban's configuration directory
	DatePattern                                                                     string // -d
	TimeZone                                                                        string // --timezone
	Raw                                                                             bool   // -r: DNS names are not resolved
	UseDNS                                                                          string // --usedns
	MaxLines                                                                        int    // -L
	JournalMatch                                                                    string // -m
	Out                                                                             string // -o: id, fid, ip, msg, row, or a field name
	NoCheckAll                                                                      bool   // --no-check-all
	PrintNoMissed, PrintAllMatched, PrintAllMissed, PrintNoIgnored, PrintAllIgnored bool
	Verbose                                                                         int
	JSON                                                                            bool
	// Native are f2bx's filter layers, searched when fail2ban's directory
	// has no filter of the name.
	Native []native.Layer
	Now    func() time.Time
	Loc    *time.Location
	// Progress, when set, receives a progress line for large files.
	Progress io.Writer
}

// maxPrinted is how many missed or ignored lines the report lists
// without --print-all-*.
const maxPrinted = 20

var filterNameRE = regexp.MustCompile(`(?s)^/{0,3}[\w/_\-.]+(?:\[.*\])?$`)

// source is where the regexes came from, for the report header.
type source struct {
	header       string
	options      string // "Use   filter options" line, if any
	filter       config.Filter
	setsMaxLines bool
}

// resolve turns the REGEX argument into a filter: a fail2ban filter name
// or file, an f2bx filter, or a raw regex.
func resolve(arg string, o Options) (*source, error) {
	if filterNameRE.MatchString(arg) {
		name, params, err := fail2ban.ExtractOptions(arg)
		if err != nil {
			return nil, fmt.Errorf("wrong filter name or options: %v (while parsing %s)", err, arg)
		}
		var kv [][2]string
		for _, k := range params.Keys() {
			kv = append(kv, [2]string{k, params.Str(k)})
		}
		tries := []string{name, name + ".conf", name + ".local"}
		if strings.Contains(name[max(0, len(name)-6):], ".") {
			tries = tries[:1]
		}
		for _, t := range tries {
			p := t
			if !strings.Contains(t, "/") {
				if filepath.Base(o.ConfDir) == "filter.d" {
					p = filepath.Join(o.ConfDir, t)
				} else {
					p = filepath.Join(o.ConfDir, "filter.d", t)
				}
			}
			if st, err := os.Stat(p); err != nil || st.IsDir() {
				continue
			}
			base, fname := o.ConfDir, strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
			if filepath.Base(base) == "filter.d" {
				base = filepath.Dir(base)
			}
			header := fmt.Sprintf("Use   failregex filter file : %s, basedir: %s", fname, base)
			if strings.Contains(t, "/") {
				abs, _ := filepath.Abs(strings.TrimSuffix(p, filepath.Ext(p)))
				if filepath.Base(filepath.Dir(abs)) == "filter.d" {
					base = filepath.Dir(filepath.Dir(abs))
				} else {
					fname, base = abs, filepath.Dir(abs)
					header = fmt.Sprintf("Use   failregex file : %s", name)
				}
			}
			c, cmds, err := config.Fail2banFilter(base, fname, kv)
			if err != nil {
				return nil, fmt.Errorf("failed to load filter %s: %v", arg, err)
			}
			sets := false
			for _, cmd := range cmds {
				sets = sets || (len(cmd) > 2 && cmd[2] == "maxlines")
			}
			src := &source{header: header, filter: c, setsMaxLines: sets}
			if len(kv) > 0 {
				src.options = "Use   filter options : " + fail2ban.PyRepr(params)
			}
			return src, nil
		}
		if !strings.Contains(name, "/") && len(o.Native) > 0 {
			if c, err := native.LoadFilter(o.Native, arg); err == nil {
				return &source{header: fmt.Sprintf("Use   failregex filter file : %s, f2bx filters.d", name), filter: c}, nil
			} else if !strings.Contains(err.Error(), "not found") {
				return nil, err
			}
		}
	}
	return &source{header: "Use   failregex line : " + shortstr(arg), filter: config.Filter{UseDNS: config.DefaultUseDNS, FailRegex: []string{arg}, MaxLines: 1}}, nil
}

func shortstr(s string) string {
	if r := []rune(s); len(r) > 53 {
		return string(r[:50]) + "..."
	}
	return s
}

// Run runs the test and writes the report (or the -o fields) to w.
func Run(logArg, regexArg, ignoreArg string, o Options, w io.Writer) error {
	if o.ConfDir == "" {
		o.ConfDir = "/etc/fail2ban"
	}
	out := func(format string, a ...any) {
		if o.Out == "" && !o.JSON {
			fmt.Fprintf(w, format+"\n", a...)
		}
	}
	out("")
	out("Running tests")
	out("=============")
	out("")
	src, err := resolve(regexArg, o)
	if err != nil {
		return err
	}
	c := src.filter
	out("%s", src.header)
	if src.options != "" {
		out("%s", src.options)
	}
	if ignoreArg != "" {
		c.IgnoreRegex = []string{ignoreArg}
		out("Use ignoreregex line : %s", shortstr(ignoreArg))
	}
	if o.MaxLines > 0 {
		c.MaxLines = o.MaxLines
	}
	if o.MaxLines > 0 || src.setsMaxLines {
		out("Use         maxlines : %d", max(c.MaxLines, 1))
	}
	if o.DatePattern != "" {
		c.DatePattern = o.DatePattern
	}
	if o.UseDNS != "" {
		c.UseDNS = o.UseDNS
	}
	resolver := &dns.Resolver{}
	f, err := filter.New(c, filter.Options{
		Now: o.Now, Loc: o.Loc, TimeZone: o.TimeZone,
		CheckAll: !o.NoCheckAll && o.Out == "", RawHost: o.Raw, AcceptNoDate: true,
		IgnorePending: o.Out != "", AnyYear: true, Resolve: resolver.Resolve,
	})
	if err != nil {
		return err
	}
	if c.DatePattern != "" {
		out("Use      datepattern : %s : %s", c.DatePattern, datePatternName(f))
	}
	lines, closeFn, err := openLines(logArg, c.MaxLines, out)
	if err != nil {
		return err
	}
	defer closeFn()
	out("")

	emit, err := outputter(o.Out, w)
	if err != nil {
		return err
	}
	rep := &Report{}
	hits := make([]int, len(f.Fail))
	var missed, ignored, matched []string
	start := time.Now()
	if o.Out != "" {
		// Only the failures are printed: the batch path (prefiltered in
		// Hyperscan builds) gives the same ones, faster.
		var chunk []string
		flush := func() error {
			err := f.ProcessLines(chunk, func(_ int, rs []filter.Failure) {
				var ret []filter.Failure
				for _, r := range rs {
					if !r.NoFail() {
						ret = append(ret, r)
					}
				}
				if len(ret) > 0 {
					emit(ret)
				}
			})
			chunk = chunk[:0]
			return err
		}
		for lines.next() {
			if chunk = append(chunk, lines.text); len(chunk) == 512 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		return lines.err()
	}
	prefMatched := 0
	limit := maxPrinted
	if o.MaxLines > 0 {
		limit = o.MaxLines
	}
	multi := c.MaxLines > 1
	for lines.next() {
		line := lines.text
		ignBefore := sum(f.IgnoreCount)
		prefBefore := f.PrefMatches
		var before [][4]string
		if multi {
			before = f.Buffer()
		}
		found := f.ProcessLine(line)
		if multi {
			// As fail2ban-regex: buffered lines a multi-line match took
			// count as matched, not missed.
			after := f.Buffer()
			start := 0
			if len(before) >= c.MaxLines {
				start = 1
			}
			for _, bl := range before[start:] {
				if containsLine(after, bl) {
					continue
				}
				text := bl[0] + bl[1] + bl[2]
				for i, m := range missed {
					if m == text {
						missed = append(missed[:i], missed[i+1:]...)
						break
					}
				}
				if o.PrintAllMatched {
					matched = append(matched, text)
				}
				rep.Matched++
				rep.Missed--
			}
		}
		if f.PrefMatches > prefBefore {
			prefMatched++
		}
		var ret []filter.Failure
		isIgnored := sum(f.IgnoreCount) > ignBefore
		for _, r := range found {
			if o.Out == "" {
				hits[r.Regex]++
			}
			if r.NoFail() {
				isIgnored = true
			} else {
				ret = append(ret, r)
			}
		}
		if o.Out != "" {
			if len(ret) > 0 && !isIgnored {
				emit(ret)
			}
			continue
		}
		rep.Lines++
		switch {
		case isIgnored:
			rep.Ignored++
			if !o.PrintNoIgnored && (o.PrintAllIgnored || rep.Ignored <= limit+1) {
				ignored = append(ignored, line)
			}
		case len(ret) > 0:
			rep.Matched++
			if o.PrintAllMatched {
				matched = append(matched, line)
			}
		default:
			rep.Missed++
			if !o.PrintNoMissed && (o.PrintAllMissed || rep.Missed <= limit+1) {
				missed = append(missed, line)
			}
		}
		if o.Progress != nil && rep.Lines%1000000 == 0 {
			fmt.Fprintf(o.Progress, "\r%d lines, %.0f lines/s ", rep.Lines, float64(rep.Lines)/time.Since(start).Seconds())
		}
	}
	if err := lines.err(); err != nil {
		return err
	}
	if o.Progress != nil && rep.Lines >= 1000000 {
		fmt.Fprintln(o.Progress)
	}
	if o.Out != "" {
		return nil
	}
	rep.Seconds = time.Since(start).Seconds()
	if rep.Seconds > 0 {
		rep.LinesPerSec = float64(rep.Lines) / rep.Seconds
	}
	if f.Pref != nil {
		rep.PrefRegex = &RegexReport{Regex: f.Pref.Expanded, Hits: prefMatched, Engine: f.Pref.Engine, JIT: f.Pref.JIT(), Why: f.Pref.Why}
	}
	for i, r := range f.Fail {
		rep.FailRegex = append(rep.FailRegex, RegexReport{Regex: r.Source, Hits: hits[i], Engine: r.Engine, JIT: r.JIT(), Why: r.Why})
	}
	for i, r := range f.Ignore {
		rep.IgnoreRegex = append(rep.IgnoreRegex, RegexReport{Regex: r.Source, Hits: f.IgnoreCount[i], Engine: r.Engine, JIT: r.JIT(), Why: r.Why})
	}
	for i, t := range f.Dates.Templates {
		if f.Dates.Hits[i] > 0 || o.Verbose > 0 {
			rep.DateTemplate = append(rep.DateTemplate, DateHits{Template: t.Name, Hits: f.Dates.Hits[i]})
		}
	}
	rep.MissedLines = missed
	if o.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rep)
	}
	printReport(w, rep, o, limit, matched, missed, ignored)
	return nil
}

// datePatternName is how fail2ban-regex names a datepattern: "Default
// Detectors" for none or more than two templates, else the first one's name.
func datePatternName(f *filter.Filter) string {
	if ts := f.Dates.Templates; len(ts) > 0 && len(ts) <= 2 {
		return ts[0].Name
	}
	return "Default Detectors"
}

func containsLine(list [][4]string, l [4]string) bool {
	for _, x := range list {
		if x[0] == l[0] && x[1] == l[1] && x[2] == l[2] {
			return true
		}
	}
	return false
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}
