package compat

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/f2bx/f2bx/config/fail2ban"
	"github.com/f2bx/f2bx/tests/fail2banpkg"
)

// optionInputs are jail values for fail2ban's parameter syntax.
var optionInputs = []string{
	"sshd", "sshd[mode=aggressive]", `act[k="a,b", k2='x y', k3=plain]`, "act[a=1][b=2]",
	"act[ a = 1 ]", "act[a=1, a=2]", `act[name=x"y]`, `act[k="v]`, "act[a=1,,b=2]", "act[=x]",
	"x[a=1] junk", "act[a=]", "act[a='',b=\"\"]", "act[port=\"ssh,2222\", protocol=tcp]  ",
	"act[k=v\nw, j=\"multi\nline\"]", "a.py[actname=x, k=1]", "act[p1=\"a]b\"]", "act[x.y-z_1=v]",
}

// splitInputs are multi-line action values.
var splitInputs = []string{
	"a\nb\nc", "a[p=1]\nb[x=\"1,\n 2\"] c\n  d[k='v']", "  a[k=v]  b  ", "a[\nk=v]\nb",
	"%(x)s[name=j-tcp, protocol=\"tcp\"]\n%(x)s[name=j-udp, protocol=\"udp\"]", "a[k=\"v\"][k2=w] b[]",
}

// TestOptionSyntaxAgainstFail2ban runs fail2ban's extractOptions and
// splitWithOptions and f2bx's on the same inputs.
func TestOptionSyntaxAgainstFail2ban(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	script := `import sys, json
from fail2ban.helpers import extractOptions, splitWithOptions
ins = json.loads(sys.argv[1]); splits = json.loads(sys.argv[2])
out = []
for s in ins:
    try:
        n, o = extractOptions(s)
        out.append({"name": n, "opts": [[k, v] for k, v in o.items()]})
    except ValueError as e:
        out.append({"error": True})
print(json.dumps({"extract": out, "split": [[x.strip() for x in splitWithOptions(s)] for s in splits]}))
`
	a, _ := json.Marshal(optionInputs)
	b, _ := json.Marshal(splitInputs)
	cmd := pkg.Script(script, string(a), string(b))
	var want struct {
		Extract []struct {
			Name  string
			Opts  [][2]string
			Error bool
		}
		Split [][]string
	}
	if err := json.Unmarshal([]byte(run(t, cmd)), &want); err != nil {
		t.Fatal(err)
	}
	for i, in := range optionInputs {
		w := want.Extract[i]
		name, opts, err := fail2ban.ExtractOptions(in)
		if (err != nil) != w.Error {
			t.Errorf("%q: error %v, fail2ban error %v", in, err, w.Error)
			continue
		}
		if err != nil {
			continue
		}
		var got [][2]string
		for _, k := range opts.Keys() {
			got = append(got, [2]string{k, opts.Str(k)})
		}
		if name != w.Name || !reflect.DeepEqual(got, w.Opts) && (len(got) != 0 || len(w.Opts) != 0) {
			t.Errorf("%q: %q %v, fail2ban %q %v", in, name, got, w.Name, w.Opts)
		}
	}
	for i, in := range splitInputs {
		var got []string
		for _, s := range fail2ban.SplitWithOptions(in) {
			got = append(got, strings.TrimSpace(s))
		}
		if !reflect.DeepEqual(got, want.Split[i]) && (len(got) != 0 || len(want.Split[i]) != 0) {
			t.Errorf("split %q: %q, fail2ban %q", in, got, want.Split[i])
		}
	}
}
