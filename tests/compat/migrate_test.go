package compat

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/load"
	"github.com/f2bx/f2bx/filter"
	"github.com/f2bx/f2bx/store"
	"github.com/f2bx/f2bx/tests/fail2banpkg"
)

// migrateReport is the part of f2bx migrate --json the tests read.
type migrateReport struct {
	Jails []struct {
		Jail, Status string
		Notes        []string
		BansImported int `json:"bans_imported"`
	}
	Bans *struct{ Active, Imported, Permanent int }
}

// runMigrate runs f2bx migrate --json and decodes its report.
func runMigrate(t *testing.T, args ...string) migrateReport {
	t.Helper()
	var rep migrateReport
	out := run(t, exec.Command(f2bxBin, append([]string{"migrate", "--json"}, args...)...))
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return rep
}

// checkRoundTrip loads the fail2ban directory and the migrated one and
// requires, jail by jail, the same resolved settings (filter, times,
// ignore lists, log paths, journal matches), the actions mapped as
// documented (packet filter actions to f2bx-xdp, command actions kept),
// and the same failures from both filters on fail2ban's sample log of the
// jail's filter.
func checkRoundTrip(t *testing.T, pkg *fail2banpkg.Package, from, to string) int {
	t.Helper()
	orig, err := load.Load(load.Options{Dir: from})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := load.Load(load.Options{Dir: to})
	if err != nil {
		t.Fatal(err)
	}
	if conv.Config.Source.Kind != load.KindNative {
		t.Fatalf("%s loads as %s", to, conv.Config.Source.Kind)
	}
	if len(conv.Config.Errors) > 0 {
		t.Fatalf("migrated configuration has errors: %v", conv.Config.Errors)
	}
	if len(conv.Config.Jails) != len(orig.Config.Jails) {
		t.Fatalf("%d jails migrated, fail2ban has %d", len(conv.Config.Jails), len(orig.Config.Jails))
	}
	logs := filepath.Join(pkg.PythonPath(), "fail2ban", "tests", "files", "logs")
	lines := 0
	for _, o := range orig.Config.Jails {
		c := conv.Config.Jail(o.Name)
		if c == nil {
			t.Fatalf("jail %s not migrated", o.Name)
		}
		of, cf := o.Filter, c.Filter
		if of.PrefRegex != cf.PrefRegex || fmt.Sprint(of.FailRegex) != fmt.Sprint(cf.FailRegex) ||
			fmt.Sprint(of.IgnoreRegex) != fmt.Sprint(cf.IgnoreRegex) || of.DatePattern != cf.DatePattern ||
			of.MaxLines != cf.MaxLines || of.UseDNS != cf.UseDNS {
			t.Errorf("jail %s: filter differs:\n%+v\n%+v", o.Name, of, cf)
		}
		if o.MaxRetry != c.MaxRetry || o.MaxMatches != c.MaxMatches || o.FindTime != c.FindTime || o.BanTime != c.BanTime ||
			!sameIncrement(o.Increment, c.Increment) {
			t.Errorf("jail %s: times differ: %d %d %v %v %+v / %d %d %v %v %+v", o.Name,
				o.MaxRetry, o.MaxMatches, o.FindTime, o.BanTime, o.Increment, c.MaxRetry, c.MaxMatches, c.FindTime, c.BanTime, c.Increment)
		}
		if fmt.Sprint(o.IgnoreIP) != fmt.Sprint(c.IgnoreIP) || o.IgnoreSelf != c.IgnoreSelf || o.IgnoreCommand != c.IgnoreCommand || o.IgnoreCache != c.IgnoreCache {
			t.Errorf("jail %s: ignore settings differ", o.Name)
		}
		if fmt.Sprint(o.LogPaths) != fmt.Sprint(c.LogPaths) || fmt.Sprint(o.JournalMatch) != fmt.Sprint(c.JournalMatch) ||
			o.Backend != c.Backend || o.LogEncoding != c.LogEncoding || o.LogTimezone != c.LogTimezone {
			t.Errorf("jail %s: sources differ: %v %v %s / %v %v %s", o.Name, o.LogPaths, o.JournalMatch, o.Backend, c.LogPaths, c.JournalMatch, c.Backend)
		}
		if w, g := expectedActions(o.Actions), actionList(c.Actions); w != g {
			t.Errorf("jail %s: actions\n got %s\nwant %s", o.Name, g, w)
		}
		data, err := os.ReadFile(filepath.Join(logs, o.Filter.Name))
		if err != nil {
			continue
		}
		sample := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if w, g := failures(t, o.Filter, sample), failures(t, c.Filter, sample); w != g {
			t.Errorf("jail %s: failures on %s differ", o.Name, o.Filter.Name)
		}
		lines += len(sample)
	}
	return lines
}

func sameIncrement(a, b config.BanTimeIncrement) bool {
	da, _ := json.Marshal(a)
	db, _ := json.Marshal(b)
	return string(da) == string(db)
}

// expectedActions is what migration must make of fail2ban's actions.
func expectedActions(acts []config.Action) string {
	var out []string
	xdp := false
	for _, a := range acts {
		f := a.File
		switch {
		case strings.HasPrefix(f, "iptables") || strings.HasPrefix(f, "nftables") || strings.HasPrefix(f, "firewallcmd") ||
			f == "ufw" || strings.HasPrefix(f, "shorewall") || f == "route" || f == "apf" || f == "pf" || f == "ipfw" ||
			f == "bsd-ipfw" || f == "npf" || f == "ipfilter" || f == "csf-ip-deny":
			if !xdp {
				out = append(out, "f2bx-xdp{}")
			}
			xdp = true
		case a.PythonPath != "":
		default:
			out = append(out, actionList([]config.Action{a}))
		}
	}
	return strings.Join(out, " ")
}

// actionList prints actions with their options sorted.
func actionList(acts []config.Action) string {
	var out []string
	for _, a := range acts {
		var kv []string
		for _, o := range a.Options {
			if o.Key != config.BackendOption {
				kv = append(kv, o.Key+"="+o.Value)
			}
		}
		sort.Strings(kv)
		out = append(out, a.Name+"{"+strings.Join(kv, ",")+"}")
	}
	return strings.Join(out, " ")
}

// failures runs a filter over lines and prints every failure.
func failures(t *testing.T, c config.Filter, lines []string) string {
	t.Helper()
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	f, err := filter.New(c, filter.Options{Now: func() time.Time { return now }, AcceptNoDate: true, RawHost: true})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, l := range lines {
		if r := f.ProcessLine(l); len(r) > 0 {
			b.WriteString(failureKey(i, r))
		}
	}
	return b.String()
}

// TestMigrateDebianEveryJail migrates Debian's fail2ban configuration with
// every jail enabled and requires every jail converted, and the migrated
// configuration to load into the same jails.
func TestMigrateDebianEveryJail(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	conf, jails := debianEveryJail(t, pkg)
	to := filepath.Join(t.TempDir(), "f2bx")
	dry := runMigrate(t, "--dry-run", "--from", conf, "--to", to, "--db", "")
	if _, err := os.Stat(to); err == nil {
		t.Fatal("--dry-run wrote files")
	}
	rep := runMigrate(t, "--from", conf, "--to", to, "--db", "")
	if len(rep.Jails) != len(jails) || len(dry.Jails) != len(jails) {
		t.Fatalf("report has %d jails (dry run %d), jail.conf %d", len(rep.Jails), len(dry.Jails), len(jails))
	}
	counts := map[string]int{}
	for _, j := range rep.Jails {
		counts[j.Status]++
		if j.Status == "not converted" {
			t.Errorf("jail %s not converted: %v", j.Jail, j.Notes)
		}
	}
	lines := checkRoundTrip(t, pkg, conf, to)
	// A second run refuses to overwrite; --force does.
	cmd := exec.Command(f2bxBin, "migrate", "--from", conf, "--to", to, "--db", "")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "use --force") {
		t.Fatalf("second run without --force: %v\n%s", err, out)
	}
	runMigrate(t, "--from", conf, "--to", to, "--db", "", "--force")
	t.Logf("%d jails: %v; round trip identical, same failures on %d sample lines", len(jails), counts, lines)
}

// TestMigrateCustomConfig migrates a configuration with .local overrides,
// jail.d files, filter parameters, a custom filter, a custom command
// action with tags, a mail action and a Python action.
func TestMigrateCustomConfig(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	tmp := t.TempDir()
	conf := filepath.Join(tmp, "conf")
	logs := filepath.Join(tmp, "logs")
	copyDir(t, pkg.ConfDir(), conf)
	writeFiles(t, logs, map[string]string{"auth.log": "", "web/a.log": "", "web/b.log": "", "app.log": ""})
	writeFiles(t, conf, map[string]string{
		"fail2ban.local": "[Definition]\nloglevel = DEBUG\ndbpurgeage = 2d\n",
		"jail.local": fmt.Sprintf(`[DEFAULT]
ignoreip = 127.0.0.1/8 ::1 192.0.2.0/24
bantime = 1h
findtime = 30m
banaction = nftables-multiport
bantime.increment = true
bantime.factor = 2
bantime.maxtime = 1w

[sshd]
enabled = true
mode = aggressive
logpath = %[1]s/auth.log
port = 2222
maxretry = 3
action = %%(action_mw)s
         smtp.py[host="mail.example.org"]

[myapp]
enabled = true
filter = myapp[greeting="Hello there"]
logpath = %[1]s/app.log
backend = polling
action = myblock[bad="<ip>; rm -rf /"]
         iptables-allports[name=myapp]
`, logs),
		"jail.d/web.conf": fmt.Sprintf(`[nginx-http-auth]
enabled = true
logpath = %[1]s/web/*.log
          %[1]s/web/b.log tail
bantime = -1
ignorecommand = /bin/true <ip>
`, logs),
		"jail.d/web.local": "[nginx-http-auth]\nmaxretry = 7\nbantime.rndtime = 5m\n",
		"filter.d/myapp.conf": `[INCLUDES]
before = common.conf
[Definition]
_daemon = myapp
failregex = ^%(__prefix_line)s<greeting> failed login for <F-USER>\S+</F-USER> from <HOST>$
            ^(?:(?!ok).)* refused <ADDR>$
ignoreregex = ^.* trusted <HOST>$
datepattern = ^%%Y-%%m-%%d %%H:%%M:%%S
[Init]
greeting = Hi
maxlines = 2
`,
		"action.d/myblock.conf": "[Definition]\nactionban = echo ban <ip> <bad> >> /tmp/x\nactionunban = echo unban <ip>\n[Init]\nbad = x\n",
	})
	to := filepath.Join(tmp, "f2bx")
	rep := runMigrate(t, "--from", conf, "--to", to, "--db", "")
	status := map[string]string{}
	notes := map[string]string{}
	for _, j := range rep.Jails {
		status[j.Jail], notes[j.Jail] = j.Status, strings.Join(j.Notes, "\n")
	}
	if len(status) != 3 {
		t.Fatalf("jails: %v", status)
	}
	for jail, want := range map[string][]string{
		"sshd":  {"smtp.py", "Python action", "nftables-multiport", "f2bx-xdp", "port 2222 only", "regexp2"},
		"myapp": {"iptables-allports", "regexp2"},
	} {
		if status[jail] != "converted with notes" {
			t.Errorf("jail %s: %s", jail, status[jail])
		}
		for _, w := range want {
			if !strings.Contains(notes[jail], w) {
				t.Errorf("jail %s: notes lack %q:\n%s", jail, w, notes[jail])
			}
		}
	}
	checkRoundTrip(t, pkg, conf, to)
	conv, err := load.Load(load.Options{Dir: to})
	if err != nil {
		t.Fatal(err)
	}
	if conv.Config.Server.LogLevel != "DEBUG" || conv.Config.Server.DBPurgeAge.Seconds() != 2*86400 {
		t.Errorf("server settings: %+v", conv.Config.Server)
	}
	// The custom action keeps its parameter, which holds shell text, as
	// a value: the command action quotes it when it substitutes it.
	acts := actionList(conv.Config.Jail("myapp").Actions)
	if !strings.Contains(acts, "bad=<ip>; rm -rf /") || !strings.HasSuffix(acts, "f2bx-xdp{}") {
		t.Errorf("myapp actions: %s", acts)
	}
	// --keep-firewall enforces with nftables instead.
	to2 := filepath.Join(tmp, "f2bx-nft")
	runMigrate(t, "--from", conf, "--to", to2, "--db", "", "--keep-firewall")
	conv2, err := load.Load(load.Options{Dir: to2})
	if err != nil {
		t.Fatal(err)
	}
	if acts := actionList(conv2.Config.Jail("sshd").Actions); !strings.HasPrefix(acts, "f2bx-nftables{}") {
		t.Errorf("sshd actions with --keep-firewall: %s", acts)
	}
}

// TestMigrateBans has fail2ban's own database code write a database with
// current, expired and permanent bans, migrates it, and requires f2bx's
// database to hold every active ban of the migrated jails with the same
// time and ban time (so the same remaining time), permanent ones
// included, and no ban of a jail that was not migrated.
func TestMigrateBans(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	tmp := t.TempDir()
	conf := filepath.Join(tmp, "conf")
	copyDir(t, pkg.ConfDir(), conf)
	writeFiles(t, tmp, map[string]string{"auth.log": ""})
	writeFiles(t, conf, map[string]string{"jail.local": "[sshd]\nenabled = true\nlogpath = " + filepath.Join(tmp, "auth.log") + "\n"})
	db := filepath.Join(tmp, "fail2ban.sqlite3")
	now := time.Now().Unix()
	cur := writeFail2banDB(t, pkg, db, now, map[string]int{"sshd": 600, "apache-auth": 3600}, []banRow{
		{"sshd", "192.0.2.1", now - 100, 600, 1}, {"sshd", "192.0.2.2", now - 700, 600, 1},
		{"sshd", "2001:db8::5", now - 1_000_000, -1, 4}, {"sshd", "192.0.2.3", now - 300, 600, 1},
		{"sshd", "192.0.2.3", now - 20, 86400, 2}, {"apache-auth", "198.51.100.3", now - 50, 7200, 1}})
	var want [][]any
	for _, r := range cur {
		if r[0] == "sshd" {
			want = append(want, r[:5])
		}
	}
	if len(want) != 3 {
		t.Fatalf("fail2ban has %d current sshd bans, want 3: %v", len(want), want)
	}
	out := filepath.Join(tmp, "f2bx.db")
	dry := runMigrate(t, "--dry-run", "--from", conf, "--to", filepath.Join(tmp, "f2bx"), "--db", db, "--f2bx-db", out)
	if _, err := os.Stat(out); err == nil || dry.Bans == nil || dry.Bans.Imported != 3 {
		t.Fatalf("dry run: database written or wrong count: %+v", dry.Bans)
	}
	rep := runMigrate(t, "--from", conf, "--to", filepath.Join(tmp, "f2bx"), "--db", db, "--f2bx-db", out)
	if rep.Bans == nil || rep.Bans.Active != 3 || rep.Bans.Imported != 3 || rep.Bans.Permanent != 1 {
		t.Fatalf("report: %+v", rep.Bans)
	}
	st, err := store.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.CurrentBans(context.Background(), "", float64(time.Now().Unix()))
	if err != nil {
		t.Fatal(err)
	}
	var gotRows [][]any
	for _, b := range got {
		gotRows = append(gotRows, []any{b.Jail, b.ID, float64(b.Time), b.BanTime, float64(b.Count)})
	}
	key := func(r []any) string { return fmt.Sprint(r[1]) }
	sort.Slice(want, func(i, j int) bool { return key(want[i]) < key(want[j]) })
	if fmt.Sprint(gotRows) != fmt.Sprint(want) {
		t.Fatalf("f2bx's current bans\n%v\nfail2ban's\n%v", gotRows, want)
	}
	// The migrated configuration points at the database the bans went to.
	conv, err := load.Load(load.Options{Dir: filepath.Join(tmp, "f2bx")})
	if err != nil || conv.Config.Server.DBFile != out {
		t.Fatalf("dbfile %q, %v", conv.Config.Server.DBFile, err)
	}
	// Migrating again (--force) adds no ban twice.
	again := runMigrate(t, "--from", conf, "--to", filepath.Join(tmp, "f2bx"), "--db", db, "--f2bx-db", out, "--force")
	if again.Bans.Imported != 0 {
		t.Fatalf("second import: %+v", again.Bans)
	}
	t.Logf("%d active bans imported with their remaining time (1 permanent); the other jail's ban skipped", len(got))
}
