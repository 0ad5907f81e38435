package compat

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/tests/fail2banpkg"
)

// rulesConfig is a fail2ban configuration written to exercise every rule
// of the reader: includes (before/after, nested, a loop), .conf/.d/.local
// layering, comments and continuation lines, %% and every interpolation
// form, conditional sections and options, filter and action parameters with
// quotes and commas, several actions, Python actions, jails that fail,
// and every time-string form.
var rulesConfig = map[string]string{
	"fail2ban.conf": `[Definition]
loglevel = INFO
logtarget = /var/log/f2b-%(loglevel)s.log ; inline comment
dbfile = :memory:
dbpurgeage = 1d12h
dbmaxmatches = 7
[Thread]
stacksize = 64
`,
	"fail2ban.d/10-level.conf": "[Definition]\nloglevel = NOTICE\n",
	"fail2ban.local":           "[Definition]\nallowipv6 = yes\n",

	"jail.conf": `# comment line
; another comment line
[INCLUDES]
before = paths.conf
after  = after.conf

[DEFAULT]
bantime  = 10m
findtime = 10m
maxretry = 5
maxmatches = %(maxretry)s
backend = auto
usedns = warn
logencoding = auto
enabled = false
banaction = act1
banaction_allports = act1[allports=yes]
port = 0:65535
protocol = tcp
chain = <known/chain>
action_ = %(banaction)s[port="%(port)s", protocol="%(protocol)s", chain="%(chain)s"]
action_mw = %(action_)s
            act2[name=%(__name__)s, dest="root@localhost, admin@localhost"]
action = %(action_)s
percent = 100%%
ignorecommand =

[one]
enabled = true
filter = f1[mode=aggressive, extra="a,b"]
logpath = %(log_dir)s/one.log
          %(log_dir)s/one-*.log tail
port = ssh,2222
bantime = 1d12h
findtime = 1h+30m
bantime.increment = true
bantime.factor = 2
bantime.formula = ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor
bantime.multipliers = 1 2 4 8 16
bantime.maxtime = 1y-6mo
bantime.rndtime = 10 minutes
bantime.overalljails = yes
ignoreip = 127.0.0.1/8, ::1
           192.0.2.0/24 example.com
ignoreself = false
ignorecache = key="<ip>", max-count=100, max-time=5m
maxretry = 3
failregex = %(known/failregex)s
            ^jail extra <HOST>$
ignoreregex = ^ignored <HOST>$
action = %(action_mw)s
         act1[name=one-second, k2="x, y", k3='single "quoted"'][k4=v4]
         mypy.py[actname=py1, opt="1"]
         mypy.py

[two]
enabled = true
filter = f2
backend = systemd[journalflags=1]
logpath = /nonexistent/ignored.log
journalmatch = _SYSTEMD_UNIT=two.service + _COMM=two
maxretry = 2
bantime = -1
findtime = 2w 3d 4h 5m 6s
action = %(banaction_allports)s
logtimezone = UTC+0100

[three]
enabled = true
filter = missing-filter
logpath = %(log_dir)s/one.log

[four]
enabled = 0
filter = f1

[five]
enabled = true
filter = f1
logpath = %(log_dir)s/one.log
action = missing-action

[six]
enabled = yes
filter = f1
logpath = %(log_dir)s/six.log
bantime = 1mo
findtime = 5 days
usedns = no
maxlines = 4
datepattern = ^%%Y-%%m-%%d %%H:%%M:%%S
prefregex = ^<F-CONTENT>.+</F-CONTENT>$
action = act1[name=%(__name__)s, port="%(port)s,8080"]
         act2
`,
	"paths.conf": `[INCLUDES]
before = paths-common.conf
# a loop back to jail.conf is skipped
after = jail.conf
[DEFAULT]
log_dir = LOGDIR
`,
	"paths-common.conf": "[DEFAULT]\nlog_dir = /should/be/overridden\ncommon = yes\n",
	"after.conf":        "[DEFAULT]\nmaxretry = 6\n",
	"jail.d/10-a.conf":  "[six]\nmaxretry = 8\n",
	"jail.d/20-b.local": "[six]\nbantime = 1mo\n",
	"jail.local": `[DEFAULT]
banaction = act1

[one]
maxretry = %(known/maxretry)s
`,

	"filter.d/common.conf": `[INCLUDES]
after = common-after.conf
[DEFAULT]
_daemon = \S*
__prefix = \s*(?:\S+ )?%(_daemon)s(?:\[\d+\])?:?\s*
`,
	"filter.d/common-after.conf": "[DEFAULT]\n__suffix = \\s*$\n",
	"filter.d/f1.conf": `[INCLUDES]
before = common.conf

[Init]
mode = normal
maxlines = 2
journalmatch = _COMM=f1

[Definition]
_daemon = f1d
prefregex = ^%(__prefix)s<F-CONTENT>.+</F-CONTENT>%(__suffix)s
mdre-normal = ^fail from <HOST>$
mdre-extra = ^extra fail from <HOST>$
mdre-aggressive = <mdre-normal>
                  <mdre-extra>
failregex = <mdre-<mode>>
            ^user <F-USER>\S+</F-USER> from <HOST> in %(__name__)s$
ignoreregex =
datepattern = {^LN-BEG}
`,
	"filter.d/f1.d/10-more.conf": "[Definition]\nignoreregex = ^ok from <HOST>$\n",
	"filter.d/f1.local": `[Definition]
failregex = %(known/failregex)s
            ^local fail from <HOST>$
`,
	"filter.d/f2.conf": `[Init]
journalmatch = _SYSTEMD_UNIT=f2.service
[Definition]
failregex = ^f2 fail from <HOST> <logtype>$
journalmatch = "_COMM=f2 d" + _PID=1
               <known/journalmatch>
`,

	"action.d/act1.conf": `[INCLUDES]
before = act-common.conf

[Definition]
actionstart = echo start <name> <port>
              echo second line <protocol>
actionstop = echo stop <name>
actioncheck = echo check <chain>
actionban = echo ban <ip> <port> <known/k2> <blocktype> <fq-hostname> <matches>
actionunban = echo unban <ip> <blocktype>
actionreban = echo reban <ip> <bantime>
actionprolong = echo prolong <ip> <bantime>
actionstart_on_demand = true
norestored = 1
timeout = 30

[Init]
k2 = default-k2
blocktype = DROP
chain = INPUT
allports = no

[Init?family=inet6]
blocktype = DROP6
`,
	"action.d/act-common.conf": "[Definition]\nactionflush = echo flush <name>\n[Init]\nprotocol = tcp\n",
	"action.d/act1.local": `[Definition]
actionban = %(known/actionban)s local
actionban?family=inet6 = echo ban6 <ip>
[Init]
k2 = local-k2
`,
	"action.d/act2.conf": `[Definition]
actionban = mail -s "banned <ip> in <name>" <dest> <<< "<ipmatches>"
[Init]
dest = root
`,
	"action.d/mypy.py": "# a Python action; the client only passes its path\n",
}

// TestStreamEveryRule compares the command streams of f2bx and
// fail2ban-client -d on rulesConfig, and checks the resolved model.
func TestStreamEveryRule(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	tmp := t.TempDir()
	conf, logs := filepath.Join(tmp, "conf"), filepath.Join(tmp, "logs")
	files := map[string]string{}
	for k, v := range rulesConfig {
		files[k] = strings.ReplaceAll(v, "LOGDIR", logs)
	}
	writeFiles(t, conf, files)
	writeFiles(t, logs, map[string]string{"one.log": "", "one-a.log": "", "six.log": ""})

	lines := compareStreams(t, pkg, conf)
	stream := strings.Join(lines, "\n")
	for _, want := range []string{
		"['config-error', \"Jail 'three' skipped, because of wrong configuration: Unable to read the filter 'missing-filter'\"]",
		"['config-error', \"Jail 'five' skipped, because of wrong configuration: Unable to read action 'missing-action'\"]",
		"['set', 'thread', {'stacksize': 64}]",
		"['start', 'one']", "['start', 'two']", "['start', 'six']",
	} {
		if !strings.Contains(stream, want) {
			t.Errorf("stream lacks %s", want)
		}
	}
	if strings.Contains(stream, "'four'") {
		t.Errorf("disabled jail four is in the stream")
	}

	// The model built from the stream.
	var cfg config.Config
	out := run(t, exec.Command(f2bxBin, "config", "dump", "--json", "-c", conf))
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Jails) != 3 {
		t.Fatalf("%d jails, want one, two, six", len(cfg.Jails))
	}
	one, two, six := cfg.Jail("one"), cfg.Jail("two"), cfg.Jail("six")
	checks := []struct {
		name      string
		got, want any
	}{
		{"one bantime", one.BanTime.Seconds(), 129600.0},
		{"one findtime", one.FindTime.Seconds(), 5400.0},
		{"one maxtime", one.Increment.MaxTime.Seconds(), 15778800.0},
		{"one rndtime", one.Increment.RndTime.Seconds(), 600.0},
		{"one maxretry (known/ of 3)", one.MaxRetry, 3},
		{"one logpaths", len(one.LogPaths), 2},
		{"one tail", one.LogPaths[1].Tail, true},
		{"one ignoreip", strings.Join(one.IgnoreIP, " "), "127.0.0.1/8 ::1 192.0.2.0/24 example.com"},
		{"one actions", len(one.Actions), 5},
		{"two bantime", two.BanTime.Seconds(), -1.0},
		{"two findtime", two.FindTime.Seconds(), 2*604800.0 + 3*86400 + 4*3600 + 5*60 + 6},
		{"two backend", two.Backend, "systemd[journalflags=1]"},
		{"six bantime", six.BanTime.Seconds(), 2629800.0},
		{"six maxretry from jail.d", six.MaxRetry, 8},
		// fail2ban's client inserts the jail's maxlines ahead of the
		// filter's [Init] maxlines, so fail2ban's server ends up with 2.
		{"six maxlines (as fail2ban applies it)", six.Filter.MaxLines, 2},
		{"six datepattern", six.Filter.DatePattern, "^%Y-%m-%d %H:%M:%S"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(cfg.Errors) == 0 {
		t.Errorf("no errors reported for jails three and five")
	}
}

// TestTimeStrings checks config.ParseSeconds against fail2ban-client
// --str2sec on every time-string form.
func TestTimeStrings(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	forms := []string{
		"600", "-1", "0", "10m", "1h", "1d", "1w", "1mo", "1y", "90s",
		"1d12h", "1h30m", "2w3d", "1y2mo3w4d5h6m7s", "1h+30m", "1y-6mo", "2*1h", "(1h+30m)/2",
		"1 day", "2 days", "3 weeks", "1 month", "6 months", "1 year", "2 years",
		"5 seconds", "5 sec", "5 minutes", "5 min", "5 hours", "1 hour", "1.5h",
		"1hour+30min", "0d 1h 30m", "1 week 2 days", "1H 30M", "1D", "10mm", "2dd", "3ww", "3yy", "4ss", "5hh",
		"1da", "1wee", "1mon", "1yea", "1hou", "1sec", "1 mo",
	}
	// fail2ban-client --str2sec calls MyTime.str2seconds; one Python
	// process asks it for every string at once.
	script := "import sys\nfrom fail2ban.server.mytime import MyTime\nfor s in sys.argv[1:]:\n    print(repr(float(MyTime.str2seconds(s))))\n"
	cmd := pkg.Script(script, forms...)
	out := strings.Fields(run(t, cmd))
	if len(out) != len(forms) {
		t.Fatalf("fail2ban printed %d values for %d strings", len(out), len(forms))
	}
	for i, s := range forms {
		want, err := strconv.ParseFloat(out[i], 64)
		if err != nil {
			t.Fatal(err)
		}
		got, err := config.ParseSeconds(s)
		if err != nil {
			t.Errorf("ParseSeconds(%q): %v (fail2ban: %v)", s, err, want)
			continue
		}
		if got != want {
			t.Errorf("ParseSeconds(%q) = %v, fail2ban says %v", s, got, want)
		}
	}
}
