package regextest

import (
	"fmt"
	"io"
	"strings"

	"github.com/f2bx/f2bx/filter"
)

// Report is the outcome of a run, for --json.
type Report struct {
	Lines        int           `json:"lines"`
	Matched      int           `json:"matched"`
	Missed       int           `json:"missed"`
	Ignored      int           `json:"ignored"`
	Seconds      float64       `json:"seconds"`
	LinesPerSec  float64       `json:"lines_per_second"`
	PrefRegex    *RegexReport  `json:"prefregex,omitempty"`
	FailRegex    []RegexReport `json:"failregex"`
	IgnoreRegex  []RegexReport `json:"ignoreregex,omitempty"`
	DateTemplate []DateHits    `json:"date_templates"`
	MissedLines  []string      `json:"missed_lines,omitempty"`
}

// RegexReport is one regex with its hits and the engine it ran on.
type RegexReport struct {
	Regex  string `json:"regex"`
	Hits   int    `json:"hits"`
	Engine string `json:"engine"`
	// JIT: the regex runs on PCRE2's JIT compiler (an re2 regex with Go's
	// matches, or a regexp2 one with Python's).
	JIT bool   `json:"pcre2_jit,omitempty"`
	Why string `json:"why_backtracking,omitempty"`
}

// DateHits is one date template and how often it matched.
type DateHits struct {
	Template string `json:"template"`
	Hits     int    `json:"hits"`
}

func pprintList(w io.Writer, list []string, header string) {
	if len(list) == 0 {
		return
	}
	s := ""
	if header != "" {
		s = "|- " + header + "\n"
	}
	fmt.Fprintln(w, s+"|  "+strings.Join(list, "\n|  ")+"\n`-")
}

func printReport(w io.Writer, rep *Report, o Options, limit int, matched, missed, ignored []string) {
	fmt.Fprint(w, "\nResults\n=======\n")
	if p := rep.PrefRegex; p != nil {
		fmt.Fprintf(w, "\nPrefregex: %d total\n", p.Hits)
		pprintList(w, []string{p.Regex}, "")
	}
	regexes := func(title string, list []RegexReport) {
		total := 0
		var lines []string
		for i, r := range list {
			total += r.Hits
			if r.Hits > 0 || o.Verbose > 0 {
				lines = append(lines, fmt.Sprintf("%2d) [%d] %s", i+1, r.Hits, r.Regex))
			}
		}
		fmt.Fprintf(w, "\n%s: %d total\n", title, total)
		pprintList(w, lines, " #) [# of hits] regular expression")
	}
	regexes("Failregex", rep.FailRegex)
	regexes("Ignoreregex", rep.IgnoreRegex)
	fmt.Fprint(w, "\nDate template hits:\n")
	var dates []string
	for _, d := range rep.DateTemplate {
		dates = append(dates, fmt.Sprintf("[%d] %s", d.Hits, d.Template))
	}
	pprintList(w, dates, "[# of hits] date format")
	fmt.Fprintf(w, "\nLines: %d lines, %d ignored, %d matched, %d missed\n", rep.Lines, rep.Ignored, rep.Matched, rep.Missed)
	fmt.Fprintf(w, "[processed in %.2f sec, %.0f lines/s]\n", rep.Seconds, rep.LinesPerSec)
	fmt.Fprintln(w)
	printLines := func(kind string, n int, list []string, all bool) {
		if n == 0 {
			return
		}
		header := strings.ToUpper(kind[:1]) + kind[1:] + " line(s):"
		if n < limit || all {
			var trimmed []string
			for _, l := range list {
				trimmed = append(trimmed, strings.TrimRight(l, " \t\r\n"))
			}
			pprintList(w, trimmed, header)
			return
		}
		fmt.Fprintf(w, "%s too many to print.  Use --print-all-%s to print all %d lines\n", header, kind, n)
	}
	if o.PrintAllMatched {
		printLines("matched", rep.Matched, matched, true)
	}
	if !o.PrintNoIgnored {
		printLines("ignored", rep.Ignored, ignored, o.PrintAllIgnored)
	}
	if !o.PrintNoMissed {
		printLines("missed", rep.Missed, missed, o.PrintAllMissed)
	}
	var engines []string
	add := func(kind string, i int, r RegexReport) {
		e := fmt.Sprintf("%s %d: %s", kind, i, r.Engine)
		switch {
		case r.JIT && r.Engine == filter.EngineRegexp2:
			e = fmt.Sprintf("%s %d: backtracking on PCRE2's JIT (regexp2 past its step limit)", kind, i)
		case r.JIT:
			e += " on PCRE2's JIT"
		}
		if r.Why != "" {
			e += " (" + r.Why + ")"
		}
		engines = append(engines, e)
	}
	if rep.PrefRegex != nil {
		add("prefregex", 0, *rep.PrefRegex)
	}
	for i, r := range rep.FailRegex {
		add("failregex", i+1, r)
	}
	for i, r := range rep.IgnoreRegex {
		add("ignoreregex", i+1, r)
	}
	fmt.Fprintln(w, "Engines:")
	pprintList(w, engines, "")
}
