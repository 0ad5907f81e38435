package control

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/f2bx/f2bx/tests/fail2banpkg"
)

// cases are return values as f2bx's daemon gives them, for commands whose
// output fail2ban-client beautifies or prints as Python values.
var beautifyCases = []struct {
	cmd   []string
	value any
}{
	{[]string{"ping"}, "pong"},
	{[]string{"version"}, "1.0.2"},
	{[]string{"stop"}, nil},
	{[]string{"stop", "sshd"}, nil},
	{[]string{"flushlogs"}, "rolled over"},
	{[]string{"reload"}, "OK"},
	{[]string{"set", "loglevel", "DEBUG"}, "DEBUG"},
	{[]string{"set", "logtarget", "/var/log/f2bx.log"}, "/var/log/f2bx.log"},
	{[]string{"status"}, Pairs{{"Number of jail", 2}, {"Jail list", "nginx, sshd"}}},
	{[]string{"status", "sshd"}, Pairs{
		{"Filter", Pairs{{"Currently failed", 1}, {"Total failed", 7}, {"File list", []string{"/var/log/auth.log", "/var/log/b.log"}}}},
		{"Actions", Pairs{{"Currently banned", 2}, {"Total banned", 2}, {"Banned IP list", []string{"192.0.2.1", "2001:db8::1"}}}}}},
	{[]string{"status", "sshd"}, Pairs{
		{"Filter", Pairs{{"Currently failed", 0}, {"Total failed", 0}, {"Journal matches", []string{"_SYSTEMD_UNIT=sshd.service + _COMM=sshd"}}}},
		{"Actions", Pairs{{"Currently banned", 0}, {"Total banned", 0}, {"Banned IP list", []string{}}}}}},
	{[]string{"banned"}, []any{map[string]any{"sshd": []string{"192.0.2.1"}}, map[string]any{"nginx": []string{}}}},
	{[]string{"banned", "192.0.2.1", "192.0.2.9"}, []any{[]string{"sshd"}, []string{}}},
	{[]string{"get", "sshd", "banned"}, []string{"192.0.2.1", "it's"}},
	{[]string{"get", "sshd", "banned", "192.0.2.1"}, 1},
	{[]string{"set", "sshd", "banip", "192.0.2.1"}, 1},
	{[]string{"unban", "--all"}, 3},
	{[]string{"get", "sshd", "maxretry"}, 5},
	{[]string{"get", "sshd", "findtime"}, 600},
	{[]string{"get", "sshd", "usedns"}, "warn"},
	{[]string{"get", "sshd", "ignoreself"}, true},
	{[]string{"get", "sshd", "ignoreip"}, []string{"127.0.0.1/8", "::1"}},
	{[]string{"get", "sshd", "ignoreip"}, []string{}},
	{[]string{"get", "sshd", "logpath"}, []string{"/var/log/auth.log"}},
	{[]string{"get", "sshd", "journalmatch"}, [][]string{{"_SYSTEMD_UNIT=sshd.service"}, {"_COMM=sshd"}}},
	{[]string{"get", "sshd", "failregex"}, []string{"^a <HOST>$", "^b"}},
	{[]string{"get", "sshd", "actions"}, []string{"f2bx-xdp", "sendmail"}},
	{[]string{"get", "sshd", "banip"}, []string{"192.0.2.1", "192.0.2.2"}},
	{[]string{"get", "sshd", "banip", ","}, []string{"192.0.2.1", "192.0.2.2"}},
	{[]string{"get", "dbfile"}, "/var/lib/f2bx/f2bx.db"},
	{[]string{"get", "dbfile"}, nil},
	{[]string{"get", "dbpurgeage"}, 86400},
	{[]string{"get", "loglevel"}, "INFO"},
	{[]string{"get", "logtarget"}, "STDERR"},
	{[]string{"get", "sshd", "bantime.factor"}, "1"},
	{[]string{"echo", "a"}, []string{"a", "b"}},
}

// TestBeautifyAsFail2ban prints each value with f2bx's beautifier and with
// fail2ban-client's own (Debian's package, run with python3), and requires
// the same text.
func TestBeautifyAsFail2ban(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	type pyCase struct {
		Cmd   []string        `json:"cmd"`
		Value json.RawMessage `json:"value"`
	}
	var in []pyCase
	var ours []string
	for _, c := range beautifyCases {
		raw, err := json.Marshal(c.value)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, pyCase{c.cmd, raw})
		v, err := Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		ours = append(ours, Beautify(c.cmd, v))
	}
	script := `
import json, sys
from fail2ban.client.beautifier import Beautifier
for c in json.load(sys.stdin):
    b = Beautifier(c["cmd"])
    out = b.beautify(c["value"])
    sys.stdout.write(str(out) + "\x00")
`
	cmd := pkg.Script(script)
	b, _ := json.Marshal(in)
	cmd.Stdin = bytes.NewReader(b)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fail2ban's beautifier: %v\n%s", err, stderr.String())
	}
	theirs := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(theirs) != len(ours) {
		t.Fatalf("%d outputs from fail2ban, %d cases", len(theirs), len(ours))
	}
	for i := range ours {
		if ours[i] != theirs[i] {
			t.Errorf("%v %s:\n f2bx:     %q\n fail2ban: %q", beautifyCases[i].cmd, in[i].Value, ours[i], theirs[i])
		}
	}
}

func TestBeautifyError(t *testing.T) {
	if got := BeautifyError(Response{Error: "nojail", Kind: KindUnknownJail}); got != "Sorry but the jail 'nojail' does not exist" {
		t.Fatal(got)
	}
}

func TestPyQuote(t *testing.T) {
	for in, want := range map[string]string{"a": "'a'", "it's": `"it's"`, `a'b"c`: `'a\'b"c'`, "t\tn\n\x01": `'t\tn\n\x01'`, "é": "'é'"} {
		if got := pyQuote(in); got != want {
			t.Errorf("pyQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
