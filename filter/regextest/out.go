package regextest

import (
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/f2bx/f2bx/filter"
	"github.com/f2bx/f2bx/filter/fields"
)

// outputter prints the -o fields of failures.
func outputter(tok string, w io.Writer) (func([]filter.Failure), error) {
	switch tok {
	case "":
		return func([]filter.Failure) {}, nil
	case "id", "fid":
		return func(rs []filter.Failure) {
			for _, r := range rs {
				fmt.Fprintln(w, r.ID)
			}
		}, nil
	case "ip":
		return func(rs []filter.Failure) {
			for _, r := range rs {
				if ip := r.Fields.Str("ip"); ip != "" {
					fmt.Fprintln(w, ip)
				} else {
					fmt.Fprintln(w, r.ID)
				}
			}
		}, nil
	case "msg", "matches":
		return func(rs []filter.Failure) {
			for _, r := range rs {
				for _, m := range r.Fields.Strings("matches") {
					fmt.Fprintln(w, m)
				}
			}
		}, nil
	case "row":
		return func(rs []filter.Failure) {
			for _, r := range rs {
				fmt.Fprintf(w, "[%q,\t%v,\t%s],\n", r.ID, float64(r.Time.UnixNano())/1e9, fieldsRepr(r.Fields))
			}
		}, nil
	}
	if strings.Contains(tok, "<") {
		return func(rs []filter.Failure) {
			for _, r := range rs {
				for _, row := range expandTags(tok, r) {
					fmt.Fprintln(w, row)
				}
			}
		}, nil
	}
	return func(rs []filter.Failure) {
		for _, r := range rs {
			if v := r.Fields.Get(tok); v == nil {
				fmt.Fprintln(w, "None")
			} else {
				fmt.Fprintln(w, v)
			}
		}
	}, nil
}

func fieldsRepr(f *fields.Set) string {
	var parts []string
	for k, v := range f.All() {
		if k == "matches" {
			continue
		}
		parts = append(parts, fmt.Sprintf("%q: %v", k, v))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

var outTagRE = regexp.MustCompile(`<([^ <>]+)>`)

// expandTags fills an -o template as fail2ban-regex does with its action
// tags: <ip>, <fid>, <F-NAME>, <time>, <failures>, <family>, <ip-rev>,
// <msg> (one row per matched line when there are several); unknown tags
// stay as written.
func expandTags(tmpl string, r filter.Failure) []string {
	matches := r.Fields.Strings("matches")
	msgRows := strings.Contains(tmpl, "<msg>") && len(matches) > 1
	fill := func(msg string) string {
		return outTagRE.ReplaceAllStringFunc(tmpl, func(tag string) string {
			name := tag[1 : len(tag)-1]
			switch name {
			case "ip":
				if ip := r.Fields.Str("ip"); ip != "" {
					return ip
				}
				return r.ID
			case "fid":
				return r.ID
			case "time":
				return pyFloat(float64(r.Time.UnixNano()) / 1e9)
			case "failures":
				return "0"
			case "msg", "matches":
				return msg
			case "family":
				if a, err := netip.ParseAddr(r.ID); err == nil {
					if a.Is4() {
						return "inet4"
					}
					return "inet6"
				}
				return tag
			case "ip-rev":
				if a, err := netip.ParseAddr(r.ID); err == nil {
					return reverseName(a)
				}
				return tag
			}
			if f, ok := strings.CutPrefix(name, "F-"); ok {
				if v := r.Fields.Get(strings.ToLower(f)); v != nil {
					return fmt.Sprint(v)
				}
				return ""
			}
			return tag
		})
	}
	if !msgRows {
		return []string{fill(strings.Join(matches, "\n"))}
	}
	var rows []string
	for _, m := range matches {
		rows = append(rows, fill(m))
	}
	return rows
}

// pyFloat renders seconds as Python's repr of a float does.
func pyFloat(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// reverseName is the address's PTR name without the zone ("4.3.2.1.").
func reverseName(a netip.Addr) string {
	var b strings.Builder
	if a.Is4() {
		o := a.As4()
		for i := 3; i >= 0; i-- {
			fmt.Fprintf(&b, "%d.", o[i])
		}
		return b.String()
	}
	o := a.As16()
	for i := 15; i >= 0; i-- {
		fmt.Fprintf(&b, "%x.%x.", o[i]&0xf, o[i]>>4)
	}
	return b.String()
}
