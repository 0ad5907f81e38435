package native

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/f2bx/f2bx/config"
)

const testFilter = `
prefregex = '^<F-CONTENT>.+</F-CONTENT>$'
failregex = ['^fail <HOST>$']
journalmatch = ["_COMM=svc"]
[modes.ddos]
failregex = ['^flood <HOST>$']
[modes.extra]
failregex = ['^extra <HOST>$']
[modes.aggressive]
include = ["ddos", "extra"]
`

func layer(name string, files map[string]string) Layer {
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return Layer{Name: name, FS: m}
}

// globFiles pretends that exactly the given files exist.
func globFiles(files ...string) func(string) ([]string, error) {
	return func(p string) ([]string, error) {
		for _, f := range files {
			if f == p {
				return []string{f}, nil
			}
		}
		return nil, nil
	}
}

func TestLoadLayers(t *testing.T) {
	base := layer("embedded", map[string]string{
		"jails.d/svc.toml":   "[svc]\nenabled = true\nfilter = \"svc\"\nlogpath = [\"/var/log/svc.log\"]\nmaxretry = 4\n",
		"jails.d/other.toml": "[other]\nfilter = \"svc\"\nlogpath = [\"/var/log/svc.log\"]\n",
		"filters.d/svc.toml": testFilter,
	})
	etc := layer("/etc/f2bx", map[string]string{
		"f2bx.toml": "[server]\ndbfile = \"/tmp/x.db\"\ndbpurgeage = \"2d\"\n[defaults]\nbantime = \"1h\"\nignoreip = [\"10.0.0.0/8\"]\n",
		"jails.d/svc.toml": "[svc]\nfilter = \"svc[mode=aggressive]\"\nfindtime = \"1h+30m\"\n" +
			"[svc.bantime_increment]\nenabled = true\nmaxtime = \"1w\"\n[[svc.actions]]\nname = \"f2bx-nftables\"\noptions = { hook = \"forward\" }\n",
	})
	cfg, err := Load([]Layer{base, etc}, Options{Glob: globFiles("/var/log/svc.log")})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Jails) != 1 {
		t.Fatalf("jails %d, want only svc (other is disabled)", len(cfg.Jails))
	}
	j := cfg.Jails[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"maxretry from embedded", j.MaxRetry, 4},
		{"maxmatches follows maxretry", j.MaxMatches, 4},
		{"findtime from /etc", j.FindTime.Seconds(), 5400.0},
		{"bantime from [defaults]", j.BanTime.Seconds(), 3600.0},
		{"ignoreip from [defaults]", strings.Join(j.IgnoreIP, ","), "10.0.0.0/8"},
		{"aggressive mode regexes", len(j.Filter.FailRegex), 3},
		{"increment", j.Increment.Enabled, true},
		{"maxtime", j.Increment.MaxTime.Seconds(), 604800.0},
		{"action", j.Actions[0].Name, "f2bx-nftables"},
		{"backend", j.Backend, "auto"},
		{"dbfile", cfg.Server.DBFile, "/tmp/x.db"},
		{"dbpurgeage", cfg.Server.DBPurgeAge.Seconds(), 172800.0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if v, _ := j.Actions[0].Get("hook"); v != "forward" {
		t.Errorf("action option hook = %q", v)
	}
}

// With backend auto and no log file, a jail whose filter knows its journal
// reads the journal.
func TestAutoBackendFallsBackToJournal(t *testing.T) {
	l := layer("embedded", map[string]string{
		"jails.d/svc.toml":   "[svc]\nenabled = true\nfilter = \"svc\"\nlogpath = [\"/var/log/svc.log\"]\n",
		"filters.d/svc.toml": testFilter,
	})
	cfg, err := Load([]Layer{l}, Options{Glob: globFiles()})
	if err != nil {
		t.Fatal(err)
	}
	j := cfg.Jails[0]
	if j.Backend != "systemd" || len(j.JournalMatch) != 1 || j.JournalMatch[0][0] != "_COMM=svc" || len(j.LogPaths) != 0 {
		t.Errorf("backend %q journal %v logpaths %v", j.Backend, j.JournalMatch, j.LogPaths)
	}
	cfg, _ = Load([]Layer{l}, Options{Glob: globFiles("/var/log/svc.log")})
	if j := cfg.Jails[0]; j.Backend != "auto" || len(j.LogPaths) != 1 {
		t.Errorf("with the file: backend %q logpaths %v", j.Backend, j.LogPaths)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		want  string
	}{
		"unknown key": {map[string]string{"jails.d/a.toml": "[a]\nenabled = true\nmaxretyr = 3\n"}, "test/jails.d/a.toml:3:1: unknown key \"a.maxretyr\""},
		"wrong type":  {map[string]string{"jails.d/a.toml": "[a]\nmaxretry = \"three\"\n"}, "test/jails.d/a.toml:2:12:"},
		"bad time":    {map[string]string{"jails.d/a.toml": "[a]\nbantime = \"10 fortnights\"\n"}, "test/jails.d/a.toml:2:11: invalid time"},
		"syntax":      {map[string]string{"filters.d/f.toml": "failregex = ['a' 'b']\n"}, "test/filters.d/f.toml:1:"},
		"server key":  {map[string]string{"f2bx.toml": "[server]\nloglvl = \"x\"\n"}, "test/f2bx.toml:2:1: unknown key"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Load([]Layer{layer("test", tc.files)}, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// A jail that cannot be resolved is reported and skipped; others load.
func TestJailErrorsSkipTheJail(t *testing.T) {
	l := layer("t", map[string]string{
		"jails.d/j.toml": `[good]
enabled = true
filter = "svc"
logpath = ["/l"]
[nofilter]
enabled = true
filter = "missing"
logpath = ["/l"]
[badmode]
enabled = true
filter = "svc[mode=nope]"
logpath = ["/l"]
[badparam]
enabled = true
filter = "svc[colour=red]"
logpath = ["/l"]
[nolog]
enabled = true
filter = "nojournal"
logpath = ["/missing"]
`,
		"filters.d/svc.toml":       testFilter,
		"filters.d/nojournal.toml": "failregex = ['^x <HOST>$']\n",
	})
	cfg, err := Load([]Layer{l}, Options{Glob: globFiles("/l")})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Jails) != 1 || cfg.Jails[0].Name != "good" {
		t.Errorf("jails %v", cfg.Jails)
	}
	all := strings.Join(cfg.Errors, "\n")
	for _, want := range []string{`filter "missing" not found`, `unknown mode "nope"`, `unknown parameter "colour"`, "have not found any log file for nolog jail"} {
		if !strings.Contains(all, want) {
			t.Errorf("errors lack %q:\n%s", want, all)
		}
	}
}

// The stream of a native configuration reads back into the same model.
func TestStreamRoundTrip(t *testing.T) {
	l := layer("t", map[string]string{
		"jails.d/svc.toml":   "[svc]\nenabled = true\nfilter = \"svc[mode=ddos]\"\nlogpath = [\"/var/log/svc.log tail\"]\nbantime = \"-1\"\nignoreip = [\"192.0.2.1\"]\n[svc.bantime_increment]\nenabled = true\nfactor = \"2\"\nrndtime = \"5m\"\n",
		"filters.d/svc.toml": testFilter,
	})
	glob := globFiles("/var/log/svc.log")
	cfg, err := Load([]Layer{l}, Options{Glob: glob})
	if err != nil {
		t.Fatal(err)
	}
	back, err := config.FromStream(cfg.Stream(glob))
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Jails[0], back.Jails[0]
	if a.BanTime != b.BanTime || a.FindTime != b.FindTime || a.MaxRetry != b.MaxRetry ||
		strings.Join(a.Filter.FailRegex, "|") != strings.Join(b.Filter.FailRegex, "|") ||
		*a.Increment.RndTime != *b.Increment.RndTime || b.LogPaths[0].Path != "/var/log/svc.log" || !b.LogPaths[0].Tail ||
		strings.Join(a.IgnoreIP, ",") != strings.Join(b.IgnoreIP, ",") {
		t.Errorf("round trip differs:\n%+v\n%+v", a, b)
	}
}
