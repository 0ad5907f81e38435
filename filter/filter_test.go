package filter

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/f2bx/f2bx/config"
)

var now = time.Date(2005, 8, 14, 12, 0, 0, 0, time.UTC)

func newFilter(t *testing.T, c config.Filter) *Filter {
	t.Helper()
	if c.UseDNS == "" {
		c.UseDNS = "warn"
	}
	f, err := New(c, Options{Now: func() time.Time { return now }, Loc: time.UTC, AcceptNoDate: true})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Without AcceptNoDate, a line without date counts only in operation
// (as now).
func TestLinesWithoutDate(t *testing.T) {
	c := config.Filter{FailRegex: []string{`^fail <HOST>$`}, UseDNS: "warn"}
	f, _ := New(c, Options{Now: func() time.Time { return now }, Loc: time.UTC})
	if got := f.ProcessLine("fail 192.0.2.1"); len(got) != 0 {
		t.Errorf("undated line counted while reading: %+v", got)
	}
	f, _ = New(c, Options{Now: func() time.Time { return now }, Loc: time.UTC, InOperation: true})
	if got := f.ProcessLine("fail 192.0.2.1"); len(got) != 1 || !got[0].Time.Equal(now) {
		t.Errorf("undated line in operation: %+v", got)
	}
}

func TestExpandTags(t *testing.T) {
	tests := []struct{ in, useDNS, want string }{
		{`<F-USER>\S+</F-USER>`, "warn", `(?P<user>\S+)`},
		{`<F-ID>x</F-ID>`, "warn", `(?P<fid>x)`},
		{`<F-ALT_USER1>\S+</F-ALT_USER1>`, "warn", `(?P<alt_user1>\S+)`},
		{`</F-USER>`, "warn", `</F-USER>`},
		{`<UNKNOWN>`, "warn", `<UNKNOWN>`},
		{`((?i)abc)`, "warn", `(?i:abc)`},
		{`\((?i)abc)`, "warn", `\((?i)abc)`},
		{`<HOST>`, "no", reAddr},
		{`<HOST>`, "yes", reHost},
		{`<SKIPLINES><SKIPLINES>`, "warn", `\n(?P<skiplines0>(?:(?:.*\n)*?))\n(?P<skiplines1>(?:(?:.*\n)*?))`},
	}
	for _, tc := range tests {
		if got := ExpandTags(tc.in, tc.useDNS); got != tc.want {
			t.Errorf("ExpandTags(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFailureIDPriority(t *testing.T) {
	f := newFilter(t, config.Filter{FailRegex: []string{`^id <F-ID>\S+</F-ID> host <HOST>$`, `^host <HOST>$`, `^addr <ADDR>$`, `^cidr <SUBNET>$`}})
	tests := map[string]string{
		"id sess42 host 192.0.2.1":    "sess42",
		"id 192.0.2.1 host 192.0.2.1": "192.0.2.1",
		"host 2001:DB8::1":            "2001:db8::1",
		"host ::ffff:192.0.2.3":       "192.0.2.3",
		"host example.com":            "",
		"addr [2001:db8::2]":          "2001:db8::2",
		"cidr 192.0.2.77/24":          "192.0.2.0/24",
	}
	for line, want := range tests {
		got := f.ProcessLine(line)
		switch {
		case want == "-":
			if len(got) != 1 || got[0].ID != "" || got[0].Host != "example.com" {
				t.Errorf("%q: %+v, want the name left to the caller", line, got)
			}
		case want != "" && (len(got) != 1 || got[0].ID != want):
			t.Errorf("%q: %+v, want id %s", line, got, want)
		}
	}
	if _, err := New(config.Filter{FailRegex: []string{`^no id here$`}}, Options{}); err == nil {
		t.Error("a failregex without failure-id group was accepted")
	}
}

func TestUseDNS(t *testing.T) {
	resolve := func(host string) []string { return []string{"192.0.2.50", "2001:db8::50"} }
	for _, tc := range []struct {
		usedns string
		want   string
	}{{"yes", "192.0.2.50 2001:db8::50"}, {"warn", "192.0.2.50 2001:db8::50"}, {"no", ""}, {"raw", "host.example"}} {
		f, err := New(config.Filter{FailRegex: []string{`^fail <HOST>$`}, UseDNS: tc.usedns}, Options{Now: func() time.Time { return now }, AcceptNoDate: true, Resolve: resolve})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range f.ProcessLine("fail host.example") {
			ids = append(ids, r.ID)
		}
		if got := strings.Join(ids, " "); got != tc.want {
			t.Errorf("usedns=%s: %q, want %q", tc.usedns, got, tc.want)
		}
	}
}

func TestPrefregexIgnoreregexAndFirstMatch(t *testing.T) {
	f := newFilter(t, config.Filter{
		PrefRegex:   `^\s*svc\[\d+\]: <F-CONTENT>.+</F-CONTENT>$`,
		FailRegex:   []string{`^fail <HOST>$`, `^fail <HOST>`},
		IgnoreRegex: []string{`^fail 192\.0\.2\.9$`},
	})
	if got := f.ProcessLine("Aug 14 11:00:00 svc[1]: fail 192.0.2.1"); len(got) != 1 || got[0].Regex != 0 || got[0].ID != "192.0.2.1" {
		t.Errorf("first regex wins: %+v", got)
	} else if !got[0].Time.Equal(time.Date(2005, 8, 14, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("time %v", got[0].Time)
	} else if m := got[0].Fields.Strings("matches"); len(m) != 1 || m[0] != "Aug 14 11:00:00 svc[1]: fail 192.0.2.1" {
		t.Errorf("matches %q", m)
	}
	if got := f.ProcessLine("Aug 14 11:00:00 other[1]: fail 192.0.2.1"); len(got) != 0 {
		t.Errorf("prefregex not matched, but %+v", got)
	}
	if got := f.ProcessLine("Aug 14 11:00:00 svc[1]: fail 192.0.2.9"); len(got) != 0 {
		t.Errorf("ignoreregex: %+v", got)
	}
}

func TestMultiLineSessions(t *testing.T) {
	f := newFilter(t, config.Filter{
		PrefRegex: `^\s*<F-MLFID>svc\[\d+\]</F-MLFID>: <F-CONTENT>.+</F-CONTENT>$`,
		FailRegex: []string{
			`^connect from <HOST>$`,
			`^auth failed for <F-USER>\S+</F-USER>$`,
			`^<F-NOFAIL>login ok</F-NOFAIL>$`,
			`^<F-MLFFORGET>disconnect</F-MLFFORGET>$`,
		},
	})
	// The address comes in one line, the failure in a later one of the same session.
	f.ProcessLine("Aug 14 11:00:00 svc[7]: connect from 192.0.2.5")
	got := f.ProcessLine("Aug 14 11:00:01 svc[7]: auth failed for bob")
	var failures []Failure
	for _, g := range got {
		if !g.NoFail() && g.ID != "" {
			failures = append(failures, g)
		}
	}
	if len(failures) != 1 || failures[0].ID != "192.0.2.5" || failures[0].Fields.Str("user") != "bob" {
		t.Fatalf("session failure: %+v", got)
	}
	// Another session's lines do not mix in.
	if got := f.ProcessLine("Aug 14 11:00:02 svc[8]: auth failed for eve"); len(got) != 1 || got[0].ID != "" {
		t.Errorf("session without address: %+v", got)
	}
}

// A user name is attacker-controlled: an address inside it must never be
// the failure address.
func TestLogInjection(t *testing.T) {
	f := newFilter(t, config.Filter{FailRegex: []string{
		`^\s*Failed password for (?:invalid user )?<F-USER>.*</F-USER> from <HOST> port \d+ ssh2$`,
	}})
	for _, user := range []string{"x from 10.9.9.9 port 22", "from 10.9.9.9 port 22 ssh2 x", "a from 10.9.9.9 port 1 from 10.9.9.8 port 2"} {
		line := "Aug 14 11:00:00 Failed password for invalid user " + user + " from 192.0.2.7 port 4243 ssh2"
		got := f.ProcessLine(line)
		if len(got) != 1 || got[0].ID != "192.0.2.7" || got[0].Fields.Str("user") != user {
			t.Errorf("user %q: %+v", user, got)
		}
	}
}

// FuzzProcessLine feeds arbitrary lines to a filter with every kind of
// regex (RE2 and regexp2, multi-line): no panic, no hang.
func FuzzProcessLine(f *testing.F) {
	for _, s := range []string{"Aug 14 11:00:00 svc[1]: fail 192.0.2.1", "2005-08-14 10:00:00 x", "", "\x00\xff", strings.Repeat("a ", 500)} {
		f.Add(s)
	}
	fl, err := New(config.Filter{
		PrefRegex:   `^\s*<F-MLFID>svc\[\d+\]</F-MLFID>: <F-CONTENT>.+</F-CONTENT>$`,
		FailRegex:   []string{`^fail <HOST>$`, `^user (?P<u>\S+) (?!ok)\S+ <HOST>`, `^x<SKIPLINES>y <HOST>$`},
		IgnoreRegex: []string{`^fail 192\.0\.2\.9$`},
		MaxLines:    3,
		UseDNS:      "warn",
	}, Options{Now: func() time.Time { return now }, Loc: time.UTC})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		fl.ProcessLine(line)
	})
}

// The prefregex shortcut (its head and one character) finds the same
// prefix, content and groups as the whole prefregex.
func TestPrefregexHeadShortcut(t *testing.T) {
	c := config.Filter{
		PrefRegex: `^\s*<F-MLFID>(?:\S+\s+)?svc(?:\[\d+\])?:</F-MLFID>\s*(?:(?:error|fatal): )?<F-CONTENT>.+</F-CONTENT>$`,
		FailRegex: []string{`^fail(?:ed)? (?:for <F-USER>\S+</F-USER> )?from <HOST>`, `^<F-NOFAIL>ok</F-NOFAIL> from <HOST>`},
		UseDNS:    "warn",
	}
	fast := newFilter(t, c)
	slow := newFilter(t, c)
	if fast.prefHead == nil {
		t.Fatal("the shortcut is not in use")
	}
	slow.prefHead = nil
	for _, line := range []string{
		"Aug 14 11:00:00 host svc[1]: fail from 192.0.2.1", "Aug 14 11:00:00 host svc[1]: error: failed for bob from 192.0.2.2",
		"Aug 14 11:00:00 svc: fail from 192.0.2.3", "Aug 14 11:00:00 host svc[1]:", "Aug 14 11:00:00 host svc[1]: ",
		"Aug 14 11:00:00 host svc[1]:  x", "Aug 14 11:00:00 host svc[2]: ok from 192.0.2.4", "Aug 14 11:00:00 host other[1]: fail from 192.0.2.5",
	} {
		a, b := fast.ProcessLine(line), slow.ProcessLine(line)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%q:\nshortcut: %+v\nfull:     %+v", line, a, b)
		}
	}
}

// <F-TUPLE_x> groups make the failure id a tuple, written as Python does
// (fail2ban-regex prints these ids for these lines).
func TestTupleIDs(t *testing.T) {
	for _, tc := range []struct{ re, want string }{
		{`^user <F-ID>\S+</F-ID> port <F-TUPLE_ID>\d+</F-TUPLE_ID> from <HOST>$`, "('bob', '22')"},
		{`^user <F-ID>\S+</F-ID> port <F-TUPLE_ID_1>\d+</F-TUPLE_ID_1> from <F-TUPLE_ID_2>\S+</F-TUPLE_ID_2>$`, "('bob', '22', '192.0.2.1')"},
		{`^user <F-TUPLE_ID>\S+</F-TUPLE_ID> port \d+ from <HOST>$`, "(None, 'bob')"},
	} {
		f := newFilter(t, config.Filter{FailRegex: []string{tc.re}})
		got := f.ProcessLine("user bob port 22 from 192.0.2.1")
		if len(got) != 1 || got[0].ID != tc.want {
			t.Errorf("%s: %+v, want id %s", tc.re, got, tc.want)
		}
	}
}

// A failure's Addr is its id parsed when the id is an address written
// canonically, and invalid when it is anything else.
func TestFailureAddrIsItsID(t *testing.T) {
	for _, tc := range []struct {
		re, line, id, addr string
	}{
		{`^fail from <HOST>$`, "fail from 192.0.2.1", "192.0.2.1", "192.0.2.1"},
		{`^fail from <HOST>$`, "fail from 2001:DB8:0::1", "2001:db8::1", "2001:db8::1"},
		{`^fail from <HOST>$`, "fail from ::ffff:192.0.2.7", "192.0.2.7", "192.0.2.7"},
		{`^fail from <SUBNET>$`, "fail from 192.0.2.0/24", "192.0.2.0/24", ""},
		{`^fail for <F-ID>\S+</F-ID> from <HOST>$`, "fail for bob from 192.0.2.1", "bob", ""},
		{`^fail for <F-ID>\S+</F-ID>$`, "fail for 192.0.2.9", "192.0.2.9", "192.0.2.9"},
	} {
		f := newFilter(t, config.Filter{FailRegex: []string{tc.re}, UseDNS: "no"})
		got := f.ProcessLine(tc.line)
		if len(got) != 1 {
			t.Errorf("%s on %q: %d failures", tc.re, tc.line, len(got))
			continue
		}
		want := netip.Addr{}
		if tc.addr != "" {
			want = netip.MustParseAddr(tc.addr)
		}
		if got[0].ID != tc.id || got[0].Addr != want {
			t.Errorf("%s on %q: id %q addr %v, want %q %v", tc.re, tc.line, got[0].ID, got[0].Addr, tc.id, want)
		}
	}
}

// normalizeAddr renders an address as fail2ban does, and gives it parsed
// when the text is its one spelling.
func TestNormalizeAddr(t *testing.T) {
	for _, tc := range []struct {
		in             string
		family, cidr   int
		want, wantAddr string
	}{
		{"192.0.2.1", 4, -1, "192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", 6, -1, "192.0.2.1", "192.0.2.1"},
		{"2001:DB8:0::1", 6, -1, "2001:db8::1", "2001:db8::1"},
		{"192.0.2.1", 4, 24, "192.0.2.0/24", "invalid IP"},
		{"192.0.2.1", 4, 32, "192.0.2.1", "192.0.2.1"},
		{"192.0.2.01", 4, -1, "192.0.2.01", "invalid IP"},
		{"2001:db8::1", 4, -1, "2001:db8::1", "invalid IP"},
		{"host.example", 0, -1, "host.example", "invalid IP"},
	} {
		got, a := normalizeAddr(tc.in, tc.family, tc.cidr)
		if got != tc.want || a.String() != tc.wantAddr {
			t.Errorf("normalizeAddr(%q, %d, %d) = %q, %v; want %q, %s", tc.in, tc.family, tc.cidr, got, a, tc.want, tc.wantAddr)
		}
	}
}
