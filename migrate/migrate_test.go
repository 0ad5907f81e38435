package migrate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/store"
	"github.com/pelletier/go-toml/v2"
)

func TestTOMLStringRoundTrip(t *testing.T) {
	for _, s := range []string{
		``, `plain`, `^Failed \S+ for <F-USER>.*</F-USER> from <HOST>$`, `it's`, `'''`, "a\nb", "a\nb'",
		"line\nwith '''", "tab\there", "ctl\x01\x7f", `back\slash "quoted"`, "ünïcödé ✓", "end'", "\n\nx",
		"crlf\r\n",
	} {
		doc := "v = " + tomlString(s) + "\n" + tomlKey(s+"k") + " = 1\n"
		var got map[string]any
		if err := toml.Unmarshal([]byte(doc), &got); err != nil {
			t.Fatalf("%q: %v\n%s", s, err, doc)
		}
		if got["v"] != s {
			t.Errorf("%q came back as %q\n%s", s, got["v"], doc)
		}
		if _, ok := got[s+"k"]; !ok {
			t.Errorf("key %q lost: %v", s+"k", got)
		}
	}
}

func TestTimeString(t *testing.T) {
	for _, sec := range []float64{0, 1, 59, 60, 600, 3600, 3601, 86400, 86400*7 + 3661, -1, 0.5, 1e9} {
		s := timeString(sec)
		back, err := config.ParseSeconds(s)
		if err != nil || back != sec {
			t.Errorf("%v -> %q -> %v, %v", sec, s, back, err)
		}
	}
	if s := timeString(86400 + 12*3600); s != "1d12h" {
		t.Errorf("1.5 days: %q", s)
	}
}

func TestIsFirewall(t *testing.T) {
	for file, want := range map[string]bool{
		"iptables": true, "iptables-multiport": true, "iptables-ipset-proto6-allports": true, "nftables-multiport": true,
		"firewallcmd-rich-rules": true, "ufw": true, "shorewall-ipset-proto6": true, "route": true,
		"sendmail-whois": false, "abuseipdb": false, "hostsdeny": false, "routeros": false, "ufwx": false, "mail": false,
	} {
		if isFirewall(file) != want {
			t.Errorf("%s: %v", file, !want)
		}
	}
}

// jail returns a jail as a fail2ban configuration resolves it.
func jail(name string) *config.Jail {
	j := config.NewJail(name)
	j.LogPaths = []config.LogPath{{Path: "/var/log/" + name + ".log"}}
	j.Filter.Name = name
	j.Filter.FailRegex = []string{`^fail from <HOST>$`}
	j.IgnoreIP = []string{"127.0.0.1/8"}
	j.Actions = []config.Action{{Name: "iptables-multiport", File: "iptables-multiport", Options: []config.Option{{Key: "port", Value: "ssh"}, {Key: "actionban", Value: "iptables -I f2b-<name> 1 -s <ip> -j <blocktype>"}}}}
	return j
}

func TestConvert(t *testing.T) {
	a := jail("web/app") // a name that is no file name
	b := jail("web_app") // the same file name once cleaned
	c := jail("back")    // a lookahead: regexp2
	c.Filter.FailRegex = []string{`^(?!ok)\S+ from <HOST>$`}
	c.Actions = append(c.Actions, config.Action{Name: "smtp", File: "smtp.py", PythonPath: "/etc/fail2ban/action.d/smtp.py"},
		config.Action{Name: "mail", File: "mail", Options: []config.Option{{Key: "actionban", Value: "printf %%b 'Hi <ip>' | mail -s x root"}}})
	bad := jail("bad")
	bad.Filter.FailRegex = []string{`^(unclosed from <HOST>$`}
	cfg := &config.Config{Server: config.Server{LogLevel: "INFO", LogTarget: "STDERR", DBPurgeAge: config.DurationOf(86400)},
		Jails:  []*config.Jail{a, b, c, bad},
		Errors: []string{"Jail 'broken' skipped, because of wrong configuration: Unable to read the filter 'nope'"}}
	p, err := Convert(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*JailReport{}
	for _, r := range p.Jails {
		got[r.Jail] = r
	}
	if got["web/app"].Files[0] == got["web_app"].Files[0] || !strings.HasPrefix(got["web/app"].Files[0], "jails.d/web_app") {
		t.Errorf("file names: %v %v", got["web/app"].Files, got["web_app"].Files)
	}
	if r := got["back"]; r.Status != ConvertedWithNotes || r.Regexes["regexp2"] != 1 || len(r.jail.Actions) != 2 ||
		!strings.Contains(strings.Join(r.Notes, "\n"), "Python action") {
		t.Errorf("back: %+v %v", r, r.jail.Actions)
	}
	if r := got["bad"]; r.Status != NotConverted || len(r.Files) != 0 || !strings.Contains(r.Notes[0], "does not compile") {
		t.Errorf("bad: %+v", r)
	}
	if r := got["broken"]; r == nil || r.Status != NotConverted {
		t.Errorf("broken: %+v", r)
	}
	if _, ok := p.Files["jails.d/disabled-defaults.toml"]; !ok {
		t.Errorf("the embedded sshd jail is not disabled: %v", p.Files)
	}
	if len(p.Converted()) != 3 {
		t.Errorf("%d converted", len(p.Converted()))
	}

	dir := t.TempDir()
	if err := p.Write(dir, false); err != nil {
		t.Fatal(err)
	}
	if err := p.Write(dir, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second write: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "f2bx.toml"), []byte("# mine\n"), 0o644)
	if err := p.Write(dir, true); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "f2bx.toml")); string(data) != p.Files["f2bx.toml"] {
		t.Error("--force did not overwrite")
	}
}

func TestDiff(t *testing.T) {
	a, b := jail("x"), jail("x")
	b.Filter.Name = "other"
	b.Actions[0].Options = []config.Option{b.Actions[0].Options[1], b.Actions[0].Options[0]}
	if d := Diff(a, b); len(d) != 0 {
		t.Errorf("differences that change nothing: %v", d)
	}
	b.MaxRetry = 9
	b.Filter.FailRegex = []string{"x <HOST>"}
	if d := Diff(a, b); len(d) != 2 || !strings.HasPrefix(d[0], "filter.failregex") || !strings.HasPrefix(d[1], "maxretry: 3 != 9") {
		t.Errorf("diff: %v", d)
	}
}

// TestImportBans imports from a database in fail2ban's schema (written
// here with f2bx's store, which has the same tables; tests/compat writes
// one with fail2ban's own code).
func TestImportBans(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "fail2ban.sqlite3")
	st, err := store.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	const now = 1_800_000_000
	st.AddBans(context.Background(), []store.Ban{
		{Jail: "a", ID: "192.0.2.1", Time: now - 10, BanTime: 600, Count: 1},
		{Jail: "a", ID: "192.0.2.2", Time: now - 1000, BanTime: 600, Count: 1},
		{Jail: "a", ID: "192.0.2.3", Time: now - 1e6, BanTime: -1, Count: 3},
		{Jail: "gone", ID: "192.0.2.4", Time: now - 10, BanTime: 600, Count: 1},
	})
	st.Close()
	p, err := Convert(&config.Config{Jails: []*config.Jail{jail("a")}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "f2bx.db")
	if err := p.ImportBans(context.Background(), src, dst, now, false); err != nil {
		t.Fatal(err)
	}
	b := p.Bans
	if b.Active != 2 || b.Imported != 2 || b.Permanent != 1 || b.History != 1 || b.Skipped["gone"] != 1 || p.Jails[0].BansImported != 2 {
		t.Fatalf("report %+v", b)
	}
	out, _ := store.Open(dst)
	defer out.Close()
	cur, _ := out.CurrentBans(context.Background(), "", now)
	if len(cur) != 2 || cur[0].ID != "192.0.2.1" || cur[0].Time != now-10 || cur[1].BanTime != -1 || cur[1].Count != 3 {
		t.Fatalf("current bans %+v", cur)
	}
	if err := p.ImportBans(context.Background(), src, dst, now, false); err != nil || p.Bans.Imported != 0 || p.Bans.Present != 2 {
		t.Fatalf("second import: %v %+v", err, p.Bans)
	}
}
