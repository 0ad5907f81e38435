package compat

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/f2bx/f2bx/ini"
	"github.com/f2bx/f2bx/tests/fail2banpkg"
)

// compareStreams runs fail2ban-client -d and f2bx config dump --stream on
// dir and requires identical output, line for line.
func compareStreams(t *testing.T, pkg *fail2banpkg.Package, dir string) []string {
	t.Helper()
	want := run(t, pkg.Command("fail2ban-client", "-c", dir, "-d"))
	got := run(t, exec.Command(f2bxBin, "config", "dump", "--stream", "-c", dir))
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	if i, w, g := firstDiff(wl, gl); i >= 0 {
		t.Fatalf("streams differ at line %d:\nfail2ban: %s\nf2bx:     %s", i+1, w, g)
	}
	return wl
}

// TestStreamDebianEveryJail enables every jail of Debian's jail.conf, with
// a log file for every logpath, and requires f2bx to print the stream
// fail2ban-client -d prints.
func TestStreamDebianEveryJail(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	conf, jails := debianEveryJail(t, pkg)

	lines := compareStreams(t, pkg, conf)
	count := func(prefix string) (n int) {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				n++
			}
		}
		return n
	}
	if n := count("['start', "); n != len(jails) {
		t.Errorf("%d jails started, want %d", n, len(jails))
	}
	t.Logf("%d jails, %d stream lines, %d addlogpath, %d addaction: identical", len(jails), len(lines), strings.Count(strings.Join(lines, "\n"), "'addlogpath'"), strings.Count(strings.Join(lines, "\n"), "'addaction'"))
}

// debianEveryJail copies Debian's fail2ban configuration into a temporary
// folder with a jail.local that enables every jail of jail.conf, its log
// paths pointed into the test's folder, where one file is created for
// every logpath glob. It returns the configuration folder and the jails.
func debianEveryJail(t *testing.T, pkg *fail2banpkg.Package) (string, []string) {
	t.Helper()
	tmp := t.TempDir()
	conf := filepath.Join(tmp, "conf")
	logs := filepath.Join(tmp, "logs")
	copyDir(t, pkg.ConfDir(), conf)
	jailConf := parse(t, filepath.Join(conf, "jail.conf"))
	var local strings.Builder
	// Point every path setting of the paths-*.conf files into the test's
	// log folder, through the same %(...)s variables jail.conf uses.
	local.WriteString("[DEFAULT]\n")
	paths := ini.NewSection("paths")
	for _, f := range []string{"paths-common.conf", "paths-debian.conf"} {
		paths.Update(parse(t, filepath.Join(conf, f)).Defaults)
	}
	for _, k := range paths.Keys() {
		if v, _ := paths.Get(k); strings.HasPrefix(v.Raw, "/") {
			fmt.Fprintf(&local, "%s = %s\n", k, prefixLines(logs, v.Raw))
		}
	}
	var jails []string
	for _, s := range jailConf.Sections() {
		if s.Name == "INCLUDES" {
			continue
		}
		jails = append(jails, s.Name)
		fmt.Fprintf(&local, "\n[%s]\nenabled = true\n", s.Name)
		if v, ok := s.Get("logpath"); ok && strings.HasPrefix(v.Raw, "/") {
			fmt.Fprintf(&local, "logpath = %s\n", prefixLines(logs, v.Raw))
		}
	}
	writeFiles(t, conf, map[string]string{"jail.local": local.String()})

	// Create one file for every logpath glob, so that every jail resolves.
	var cfg struct {
		Jails []struct {
			Name     string
			LogPaths []struct{ Path string }
		}
		Errors []string
	}
	out := run(t, exec.Command(f2bxBin, "config", "dump", "--json", "-c", conf))
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Jails) != len(jails) {
		t.Fatalf("f2bx resolved %d jails, jail.conf has %d (errors: %v)", len(cfg.Jails), len(jails), cfg.Errors)
	}
	created := 0
	for _, j := range cfg.Jails {
		for _, lp := range j.LogPaths {
			if !strings.HasPrefix(lp.Path, logs) {
				t.Fatalf("jail %s: logpath %s is outside the test folder", j.Name, lp.Path)
			}
			// A name every glob matches: "*" and "?" as "x", a class as
			// its first member.
			p := strings.NewReplacer("*", "x", "?", "x").Replace(globClass.ReplaceAllString(lp.Path, "$1"))
			writeFiles(t, "/", map[string]string{p: ""})
			created++
		}
	}
	if created < 50 {
		t.Fatalf("only %d log files for %d jails", created, len(jails))
	}

	return conf, jails
}

var globClass = regexp.MustCompile(`\[([^\]])[^\]]*\]`)

func parse(t *testing.T, path string) *ini.File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ini.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// prefixLines puts dir in front of every absolute path of a (multi-line)
// value.
func prefixLines(dir, v string) string {
	lines := strings.Split(v, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "/") {
			lines[i] = dir + l
		}
	}
	return strings.Join(lines, "\n  ")
}
