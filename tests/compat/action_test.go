package compat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/f2bx/f2bx/action/command"
	"github.com/f2bx/f2bx/config/load"
	"github.com/f2bx/f2bx/filter/fields"
	"github.com/f2bx/f2bx/jail"
	"github.com/f2bx/f2bx/tests/fail2banpkg"
)

// actionTicket is a ban as both sides build it.
type actionTicket struct {
	IP       string         `json:"ip"`
	Time     float64        `json:"time"`
	BanTime  float64        `json:"bantime"`
	Count    int            `json:"count"`
	Failures int            `json:"failures"`
	Matches  []string       `json:"matches"`
	Fields   map[string]any `json:"fields"`
	Restored bool           `json:"restored"`
}

var actionTickets = []actionTicket{
	{IP: "192.0.2.7", Time: 1_700_000_000.25, BanTime: 600, Count: 2, Failures: 5,
		Matches: []string{"Failed password for root from 192.0.2.7 port 22 ssh2", "Invalid user x$(touch /tmp/pwned); `id` 'q' \"dq\" & | > < from 192.0.2.7"},
		Fields:  map[string]any{"user": "x$(touch /tmp/pwned);", "fid": "192.0.2.7", "fport": "22"}},
	{IP: "2001:db8::7", Time: 1_700_000_100, BanTime: -1, Count: 1, Failures: 3, Restored: true,
		Matches: []string{"plain line"}, Fields: map[string]any{"user": "root"}},
}

// TestActionCommandsAgainstFail2ban loads every action.d file of
// Debian's fail2ban into a jail, and requires that every command f2bx
// would run (start, stop, check, repair, flush for each family; ban,
// unban, reban and prolong for an IPv4 and an IPv6 ticket whose matches
// and user name carry shell syntax) is exactly what fail2ban's
// CommandAction builds: the same script and the same positional values.
func TestActionCommandsAgainstFail2ban(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	dir := t.TempDir()
	copyDir(t, pkg.ConfDir(), dir)
	logf := filepath.Join(dir, "auth.log")
	os.WriteFile(logf, nil, 0o644)
	entries, _ := filepath.Glob(filepath.Join(dir, "action.d", "*.conf"))
	var local strings.Builder
	for _, e := range entries {
		name := strings.TrimSuffix(filepath.Base(e), ".conf")
		if strings.HasSuffix(name, "-common") {
			continue
		}
		fmt.Fprintf(&local, "[a-%s]\nenabled = true\nfilter = sshd\nlogpath = %s\nbackend = polling\naction = %s[port=\"22,2222\", protocol=tcp]\n\n", name, logf, name)
	}
	os.WriteFile(filepath.Join(dir, "jail.local"), []byte(local.String()), 0o644)
	res, err := load.Load(load.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	type spec struct {
		Name  string      `json:"name"`
		Props [][2]string `json:"props"`
	}
	var specs []spec
	actions := map[string]*command.Action{}
	now := time.Unix(1_700_000_000, 0)
	for _, j := range res.Config.Jails {
		for _, a := range j.Actions {
			if a.PythonPath != "" {
				continue
			}
			s := spec{Name: j.Name + "/" + a.Name}
			for _, o := range a.Options {
				s.Props = append(s.Props, [2]string{o.Key, o.Value})
			}
			specs = append(specs, s)
			act, err := command.New(command.Config{Jail: j.Name, Action: a, BanTime: j.BanTime.Seconds(),
				Now:      func() time.Time { return now },
				Lookup:   func(context.Context, string) string { return "host.example.org" },
				Hostname: func() (string, error) { return "f2bx-test.example.org", nil }})
			if err != nil {
				t.Fatal(err)
			}
			defer act.Close()
			actions[s.Name] = act
		}
	}
	if len(specs) < 50 {
		t.Fatalf("only %d action.d files loaded", len(specs))
	}
	in, _ := json.Marshal(map[string]any{"actions": specs, "tickets": actionTickets})
	inFile := filepath.Join(t.TempDir(), "in.json")
	os.WriteFile(inFile, in, 0o644)
	script := `import sys, json, logging
logging.disable(logging.CRITICAL)
from fail2ban.server.action import CommandAction
from fail2ban.server.actions import Actions
from fail2ban.server.ticket import BanTicket
from fail2ban.server.mytime import MyTime
from fail2ban.server.ipdns import DNSUtils
MyTime.setTime(1700000000)
DNSUtils.ipToName = staticmethod(lambda ip: "host.example.org")
DNSUtils.getHostname = staticmethod(lambda fqdn=True: "f2bx-test.example.org" if fqdn else "f2bx-test")
inp = json.load(open(sys.argv[1]))
class NoDBJail:
    database = None
OPS = ["actionstart", "actionstop", "actioncheck", "actionrepair", "actionflush"]
TKS = ["actionban", "actionunban", "actionreban", "actionprolong"]
def norm(c):
    return c if isinstance(c, list) else [c]
out = {}
for spec in inp["actions"]:
    res = out[spec["name"]] = {}
    act = CommandAction(None, spec["name"])
    for k, v in spec["props"]:
        setattr(act, k, v)
    for tag in OPS:
        for fam in act._families:
            try:
                cmd = act._getOperation("<%s>" % tag, fam)
                ai = Actions.ActionInfo(BanTicket("", MyTime.time()), None)
                ai["time"] = MyTime.time(); ai["family"] = fam
                res["%s/%s" % (tag, fam)] = norm(act.replaceDynamicTags(cmd, ai))
            except Exception as e:
                res["%s/%s" % (tag, fam)] = ["error"]
    for i, tk in enumerate(inp["tickets"]):
        t = BanTicket(tk["ip"], float(tk["time"]), tk["matches"], data=dict(tk["fields"]))
        t.setBanTime(tk["bantime"]); t.setBanCount(tk["count"], always=True); t.setAttempt(tk["failures"])
        t.restored = tk["restored"]
        for tag in TKS:
            ai = Actions.ActionInfo(t, NoDBJail())
            try:
                cmd = act.replaceTag("<%s>" % tag, act._properties, conditional="family=" + ai["family"], cache=None)
                res["%s/%d" % (tag, i)] = norm(act.replaceDynamicTags(cmd, ai))
            except Exception as e:
                res["%s/%d" % (tag, i)] = ["error"]
print(json.dumps(out))
`
	var want map[string]map[string][]string
	if err := json.Unmarshal([]byte(run(t, pkg.Script(script, inFile))), &want); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	compared, differ, errored := 0, 0, 0
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		act := actions[name]
		got := map[string][]string{}
		for _, tag := range []string{"actionstart", "actionstop", "actioncheck", "actionrepair", "actionflush"} {
			for _, fam := range act.Families() {
				got[tag+"/"+fam] = flat(act.OperationScript(tag, fam))
			}
		}
		for i, tk := range actionTickets {
			a := netip.MustParseAddr(tk.IP)
			jt := &jail.Ticket{Jail: strings.SplitN(name, "/", 2)[0], ID: tk.IP, Addr: a, Time: tk.Time, BanTime: tk.BanTime,
				Count: tk.Count, Failures: tk.Failures, Matches: tk.Matches, Fields: fields.Of(tk.Fields), Restored: tk.Restored}
			for _, tag := range []string{"actionban", "actionunban", "actionreban", "actionprolong"} {
				got[fmt.Sprintf("%s/%d", tag, i)] = flat(act.Script(ctx, tag, jt))
			}
		}
		for key, w := range want[name] {
			compared++
			if len(w) == 1 && w[0] == "error" {
				errored++
			}
			if g := got[key]; !slices.Equal(g, w) {
				differ++
				if differ <= 10 {
					t.Errorf("%s %s:\n got %q\nwant %q", name, key, g, w)
				}
			}
		}
	}
	t.Logf("%d commands of %d action.d files compared (%d fail to substitute on both sides), %d differ from fail2ban's", compared, len(names), errored, differ)
	if errored > compared/10 {
		t.Errorf("%d of %d commands could not be built by fail2ban: the comparison is not testing much", errored, compared)
	}
	if differ > 0 {
		t.Errorf("%d of %d commands differ", differ, compared)
	}
}

func flat(s command.Script, err error) []string {
	if err != nil {
		return []string{"error"}
	}
	return append([]string{s.Cmd}, s.Args...)
}
