package ini

import (
	"strings"
	"testing"
)

// merged parses the files in order and merges them.
func merged(t *testing.T, files ...string) *Config {
	t.Helper()
	c := NewConfig()
	for i, s := range files {
		f, err := Parse("f"+string(rune('1'+i))+".conf", []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		c.Merge(f)
	}
	return c
}

func TestInterpolation(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		sec   string
		opt   string
		vars  map[string]string
		want  string
	}{
		{"own section", []string{"[s]\na = x\nb = %(a)s-y\n"}, "s", "b", nil, "x-y"},
		{"from DEFAULT", []string{"[DEFAULT]\na = x\n[s]\nb = %(a)s\n"}, "s", "b", nil, "x"},
		{"DEFAULT in section's context", []string{"[DEFAULT]\nv = %(port)s\n[s]\nport = 22\n"}, "s", "v", nil, "22"},
		{"section beats DEFAULT", []string{"[DEFAULT]\na = d\nb = %(a)s\n[s]\na = s\n"}, "s", "b", nil, "s"},
		{"vars beat section", []string{"[s]\na = s\nb = %(a)s\n"}, "s", "b", map[string]string{"a": "v"}, "v"},
		{"percent escape", []string{"[s]\na = 100%%\n"}, "s", "a", nil, "100%"},
		{"name of section", []string{"[DEFAULT]\nn = jail-%(__name__)s\n[sshd]\nx = 1\n"}, "sshd", "n", nil, "jail-sshd"},
		{"nested", []string{"[DEFAULT]\na = %(b)s\nb = %(c)s\nc = deep\n[s]\nx = %(a)s\n"}, "s", "x", nil, "deep"},
		{"other section", []string{"[o]\nk = other\n[s]\nx = %(o/k)s\n"}, "s", "x", nil, "other"},
		{"default/ skips section", []string{"[DEFAULT]\nk = d\n[s]\nk = s\nx = %(default/k)s\n"}, "s", "x", nil, "d"},
		{"default/ when nested", []string{"[DEFAULT]\nbackend = auto\nb2 = %(default/backend)s\n[s]\nbackend = %(b2)s\n"}, "s", "backend", nil, "auto"},
		{"known/ is the overridden value", []string{"[s]\nk = old\n", "[s]\nk = %(known/k)s new\n"}, "s", "k", nil, "old new"},
		{"known/ falls back to DEFAULT", []string{"[DEFAULT]\nk = d\n[s]\nx = %(known/k)s\n"}, "s", "x", nil, "d"},
		{"later file wins", []string{"[s]\nk = a\n", "[s]\nk = b\n"}, "s", "k", nil, "b"},
		{"later DEFAULT wins", []string{"[DEFAULT]\nk = a\n", "[DEFAULT]\nk = b\n[s]\nx = %(k)s\n"}, "s", "x", nil, "b"},
		{"conditional section", []string{"[Init]\nb = 1\n[Init?family=inet6]\nb = 6\n"}, "Init", "b?family=inet6", nil, "6"},
		{"upper-case reference", []string{"[s]\nab = x\ny = %(AB)s\n"}, "s", "y", nil, "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := merged(t, tc.files...)
			got, err := c.Get(tc.sec, tc.opt, tc.vars)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestInterpolationErrors(t *testing.T) {
	tests := []struct {
		name, in, opt, want string
	}{
		{"missing", "[s]\nx = %(nope)s\n", "x", "f1.conf:2: option \"x\" in section \"s\": %(nope)s is not defined"},
		{"loop", "[s]\na = %(b)s\nb = %(a)s\n", "a", "nested too deeply"},
		{"lone percent", "[s]\nx = 100%\n", "x", "'%' must be followed by '%' or '('"},
		{"bad reference", "[s]\nx = %(a\n", "x", "bad interpolation variable reference"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := merged(t, tc.in).Get("s", tc.opt, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	// known/ keeps one layer: a third layer's known/k is the second's
	// value, which refers to itself (fail2ban fails the same way).
	three := merged(t, "[s]\nk = a\n", "[s]\nk = %(known/k)s b\n", "[s]\nk = %(known/k)s c\n")
	if _, err := three.Get("s", "k", nil); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("three layers of known/: %v", err)
	}
	c := merged(t, "[s]\na = 1\n")
	if _, err := c.Get("nope", "a", nil); err == nil {
		t.Error("no error for a missing section")
	}
	if _, err := c.Get("s", "nope", nil); err == nil {
		t.Error("no error for a missing option")
	}
}

func TestGetEx(t *testing.T) {
	c := merged(t, "[DEFAULT]\nk = d\n[Definition]\nk = old\nother = o\n", "[Definition]\nk = new\n[Init]\nk = i\n")
	for opt, want := range map[string]string{
		"known/k": "old", "known/other": "o", "default/k": "d", "Init/k": "i", "k": "new",
	} {
		got, err := c.GetEx("Definition", opt, nil)
		if err != nil || got != want {
			t.Errorf("GetEx(%q) = %q, %v; want %q", opt, got, err, want)
		}
	}
}

func TestMergeKeepsKnown(t *testing.T) {
	c := merged(t, "[s]\na = 1\nb = 2\n", "[s]\nb = 3\nc = 4\n")
	if got := strings.Join(c.Section("s").Keys(), ","); got != "a,b,c" {
		t.Errorf("keys %s, want a,b,c", got)
	}
	known := c.Section(KnownPrefix + "s")
	if v, _ := known.Get("b"); v.Raw != "2" || known.Has("a") || known.Has("c") {
		t.Errorf("known/ holds %v", known.Keys())
	}
	for _, s := range c.Sections() {
		if strings.HasPrefix(s, KnownPrefix) {
			t.Errorf("Sections lists %s", s)
		}
	}
}
