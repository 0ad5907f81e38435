package fail2ban

import (
	"reflect"
	"strings"
	"testing"
)

func TestExtractOptions(t *testing.T) {
	tests := []struct {
		in   string
		name string
		opts [][2]string
		err  string
	}{
		{"sshd", "sshd", nil, ""},
		{"sshd[mode=aggressive]", "sshd", [][2]string{{"mode", "aggressive"}}, ""},
		{`act[k="a,b", k2='x y', k3=plain]`, "act", [][2]string{{"k", "a,b"}, {"k2", "x y"}, {"k3", "plain"}}, ""},
		{`act[a=1][b=2]`, "act", [][2]string{{"a", "1"}, {"b", "2"}}, ""},
		{`act[ a = 1 ]`, "", nil, "expected option"},
		{`act[a=1, a=2]`, "act", [][2]string{{"a", "2"}}, ""},
		{`act[name=x"y]`, "act", [][2]string{{"name", `x"y`}}, ""},
		{`act[k="v]`, "act", [][2]string{{"k", `"v`}}, ""},
		{`act[a=1,,b=2]`, "", nil, "expected option, wrong syntax at 4"},
		{`act[=x]`, "", nil, "expected option"},
		{`x[a=1] junk`, "", nil, "unexpected option syntax"},
	}
	for _, tc := range tests {
		name, opts, err := ExtractOptions(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || name != tc.name {
			t.Errorf("%s: %q, %v; want %q", tc.in, name, err, tc.name)
			continue
		}
		var got [][2]string
		for _, k := range opts.Keys() {
			got = append(got, [2]string{k, opts.Str(k)})
		}
		if !reflect.DeepEqual(got, tc.opts) {
			t.Errorf("%s: options %v, want %v", tc.in, got, tc.opts)
		}
	}
}

func TestSplitWithOptions(t *testing.T) {
	in := "a[p=1]\nb[x=\"1,\n 2\"] c\n  d[k='v']"
	want := []string{"a[p=1]", "b[x=\"1,\n 2\"]", "c", "d[k='v']"}
	var got []string
	for _, s := range SplitWithOptions(in) {
		got = append(got, pyStrip(s))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func od(kv ...string) *odict {
	d := newODict()
	for i := 0; i < len(kv); i += 2 {
		d.set(kv[i], kv[i+1])
	}
	return d
}

func TestSubstituteTags(t *testing.T) {
	in := od("a", "1", "b", "<a>-2", "c", "<b>-<b>-<missing>", "d", "<ignored>", "ignored", "x", "e", "<ext>")
	ext := func(name string) (any, error) {
		if name == "ext" {
			return "external", nil
		}
		return nil, nil
	}
	out, err := substituteTags(in, "", map[string]bool{"ignored": true}, ext)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "1", "b": "1-2", "c": "1-2-1-2-<missing>", "d": "<ignored>", "e": "external"}
	for k, v := range want {
		if got := out.str(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if in.str("b") != "<a>-2" {
		t.Error("input modified")
	}
	if _, err := substituteTags(od("a", "<b>", "b", "<a>"), "", nil, nil); err == nil {
		t.Error("no error for a reference loop")
	}
	if _, err := substituteTags(od("a", "x<a>"), "", nil, nil); err == nil {
		t.Error("no error for a self reference")
	}
	nested, err := substituteTags(od("mode", "aggressive", "re-aggressive", "R", "failregex", "<re-<mode>>"), "", nil, nil)
	if err != nil || nested.str("failregex") != "R" {
		t.Errorf("embedded tag: %q, %v", nested.str("failregex"), err)
	}
}

func TestShlexSplit(t *testing.T) {
	tests := map[string][]string{
		`_SYSTEMD_UNIT=sshd.service + _COMM=sshd`: {"_SYSTEMD_UNIT=sshd.service", "+", "_COMM=sshd"},
		`"a b" 'c d' e\ f`:                        {"a b", "c d", "e f"},
		`"q\"uote" 'back\slash'`:                  {`q"uote`, `back\slash`},
		`a""b ''`:                                 {"ab", ""},
	}
	for in, want := range tests {
		got, err := shlexSplit(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := shlexSplit(`"open`); err == nil {
		t.Error("no error for an open quote")
	}
}

func TestPyRepr(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"plain", `'plain'`},
		{"it's", `"it's"`},
		{`both ' and "`, `'both \' and "'`},
		{"back\\slash\nnew\ttab", `'back\\slash\nnew\ttab'`},
		{"\x01\x7f", `'\x01\x7f'`},
		{"grüße", `'grüße'`},
		{"\u00a0", `'\xa0'`},
		{5, "5"},
		{true, "True"},
		{nil, "None"},
		{[]any{"set", "j", []string{"a", "b"}, []any{[]any{"k", 1}}}, `['set', 'j', ['a', 'b'], [['k', 1]]]`},
		{od("stacksize", "64"), `{'stacksize': '64'}`},
	}
	for _, tc := range tests {
		if got := pyRepr(tc.in); got != tc.want {
			t.Errorf("pyRepr(%#v) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got := jsonDumps(od("a", "x\"é")); got != `{"a": "x\"\u00e9"}` {
		t.Errorf("jsonDumps = %s", got)
	}
}

func TestPyInt(t *testing.T) {
	for in, want := range map[string]int{"5": 5, " 7 ": 7, "-1": -1, "+3": 3, "1_000": 1000, "007": 7} {
		if got, err := pyInt(in); err != nil || got != want {
			t.Errorf("pyInt(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "x", "1.5", "_1", "1__0", "--1", "5m"} {
		if _, err := pyInt(in); err == nil {
			t.Errorf("pyInt(%q): no error", in)
		}
	}
}
