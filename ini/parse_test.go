package ini

import (
	"strings"
	"testing"
)

func TestParseGrammar(t *testing.T) {
	tests := []struct {
		name string
		in   string
		sec  string
		opt  string
		want string
	}{
		{"equals", "[s]\na = 1\n", "s", "a", "1"},
		{"colon", "[s]\na: 1\n", "s", "a", "1"},
		{"first delimiter wins", "[s]\na = b: c = d\n", "s", "a", "b: c = d"},
		{"colon before equals", "[s]\nurl: http://x/?a=b\n", "s", "url", "http://x/?a=b"},
		{"lower-cased name", "[s]\nMaxRetry = 3\n", "s", "maxretry", "3"},
		{"section name keeps case", "[Definition]\nx = 1\n", "Definition", "x", "1"},
		{"empty value", "[s]\nignorecommand =\n", "s", "ignorecommand", ""},
		{"surrounding space", "[s]\n  a   =   v w  \n", "s", "a", "v w"},
		{"inline comment", "[s]\na = v ; comment\n", "s", "a", "v"},
		{"inline comment needs space", "[s]\na = v;w\n", "s", "a", "v;w"},
		{"hash is not inline", "[s]\na = v # not a comment\n", "s", "a", "v # not a comment"},
		{"tab before inline comment", "[s]\na = v\t; c\n", "s", "a", "v"},
		{"comment lines", "# c\n; c\n[s]\n# c\na = 1\n  ; c\n", "s", "a", "1"},
		{"continuation", "[s]\na = one\n  two\n\tthree\n", "s", "a", "one\ntwo\nthree"},
		{"blank line inside value", "[s]\na = one\n\n  two\n", "s", "a", "one\n\ntwo"},
		{"trailing blank lines dropped", "[s]\na = one\n  two\n\n\nb = 2\n", "s", "a", "one\ntwo"},
		{"comment line inside value", "[s]\na = one\n# c\n  two\n", "s", "a", "one\ntwo"},
		{"comment after continuation", "[s]\na = one\n  two ; c\n", "s", "a", "one\ntwo"},
		{"continuation deeper than name", "[s]\n  a = one\n    two\n  b = 2\n", "s", "a", "one\ntwo"},
		{"same indent is a new option", "[s]\n  a = one\n  b = two\n", "s", "b", "two"},
		{"value starting on next line", "[s]\na =\n  one\n  two\n", "s", "a", "\none\ntwo"},
		{"percent kept raw", "[s]\na = 100%%\n", "s", "a", "100%%"},
		{"crlf", "[s]\r\na = 1\r\n  2\r\n", "s", "a", "1\n2"},
		{"header with trailing text", "[s] trailing\na = 1\n", "s", "a", "1"},
		{"header with brackets", "[a[b]]\nx = 1\n", "a[b]", "x", "1"},
		{"conditional section", "[Init?family=inet6]\nx = 1\n", "Init?family=inet6", "x", "1"},
		{"dotted name", "[s]\nbantime.increment = true\n", "s", "bantime.increment", "true"},
		// As in configparser: the first "=" splits, so a conditional option
		// can only come from a conditional section.
		{"conditional option name", "[s]\nx?family=inet6 = y\n", "s", "x?family", "inet6 = y"},
		{"unicode", "[s]\nu = grüße\n", "s", "u", "grüße"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("t.conf", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			sec := f.Section(tc.sec)
			if sec == nil {
				t.Fatalf("no section %q", tc.sec)
			}
			v, ok := sec.Get(tc.opt)
			if !ok {
				t.Fatalf("no option %q in %v", tc.opt, sec.Keys())
			}
			if v.Raw != tc.want {
				t.Errorf("got %q, want %q", v.Raw, tc.want)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	f, err := Parse("t.conf", []byte("[DEFAULT]\na = 1\n[s]\nb = 2\n[DEFAULT]\nc = 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Defaults.Keys(); strings.Join(got, ",") != "a,c" {
		t.Errorf("defaults %v, want a,c (DEFAULT may repeat)", got)
	}
	if len(f.Sections()) != 1 {
		t.Errorf("sections %d, want 1", len(f.Sections()))
	}
	v, _ := f.Section("s").Get("b")
	if v.Line != 4 || v.File != "t.conf" {
		t.Errorf("b defined at %s, want t.conf:4", v.Pos())
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no section", "a = 1\n", "t.conf:1: file contains no section headers"},
		{"duplicate section", "[s]\na = 1\n[s]\n", "t.conf:3: section \"s\" already exists"},
		{"duplicate option", "[s]\na = 1\nA = 2\n", "t.conf:3: option \"a\" in section \"s\" already exists"},
		{"no delimiter", "[s]\njunk\n", "t.conf:2: expected 'name = value'"},
		{"no name", "[s]\n= v\n", "t.conf:2: option without a name"},
		{"several errors", "[s]\njunk\nmore junk\n", "t.conf:3:"},
		{"bad utf-8", "[s]\na = \xff\n", "t.conf: not valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.conf", []byte(tc.in))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"[s]\na = 1\n", "[DEFAULT]\na = %(b)s\nb = %(a)s\n[x]\nc = %(a)s\n",
		"[s]\na = one\n  two\n\n  three ; c\n", "[Init?family=inet6]\nx?y=z = 1\n",
		"[s]\nk = %(known/k)s %(default/k)s %(s/k)s %(__name__)s %%\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.conf", data)
		if err != nil {
			return
		}
		c := NewConfig()
		c.Merge(file)
		c.Merge(file)
		for _, s := range append(c.Sections(), DefaultSection) {
			opts, _ := c.Options(s, true)
			for _, o := range opts {
				c.Get(s, o, nil)
				c.GetEx(s, "known/"+o, nil)
			}
		}
	})
}
