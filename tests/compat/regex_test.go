package compat

import (
	"fmt"
	"math/rand"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2bx/f2bx/tests/bench/sshdlog"
	"github.com/f2bx/f2bx/tests/fail2banpkg"
)

// injectedUsers are user names an attacker chooses: spaces, and the words
// sshd's messages use around the address.
var injectedUsers = []string{
	"root", "admin", "x from 10.9.9.9 port 22", "from", "port", "port 22", "a b c",
	"from 10.9.9.9", "user from 198.51.100.200 port 1 ssh2", "invalid user x", "x port 22 from 10.1.1.1",
}

// sshdLog writes n lines of an sshd log of the last hours: failures of
// several kinds from IPv4 and IPv6 addresses, with hostile user names, and
// lines that are not failures.
func sshdLog(n int, seed int64) string {
	r := rand.New(rand.NewSource(seed))
	start := time.Now().Add(-3 * time.Hour)
	addr := func() string {
		if r.Intn(4) == 0 {
			return fmt.Sprintf("2001:db8:%x::%x", r.Intn(256), r.Intn(65536))
		}
		return fmt.Sprintf("192.0.2.%d", r.Intn(254)+1)
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		ts := start.Add(time.Duration(i) * time.Second).Format("Jan _2 15:04:05")
		u, a, port := injectedUsers[r.Intn(len(injectedUsers))], addr(), 1024+r.Intn(60000)
		var msg string
		switch r.Intn(9) {
		case 0:
			msg = fmt.Sprintf("Failed password for %s from %s port %d ssh2", u, a, port)
		case 1:
			msg = fmt.Sprintf("Failed password for invalid user %s from %s port %d ssh2", u, a, port)
		case 2:
			msg = fmt.Sprintf("Invalid user %s from %s port %d", u, a, port)
		case 3:
			msg = fmt.Sprintf("error: maximum authentication attempts exceeded for %s from %s port %d ssh2 [preauth]", u, a, port)
		case 4:
			msg = fmt.Sprintf("User %s from %s not allowed because not listed in AllowUsers", strings.ReplaceAll(u, " ", ""), a)
		case 5:
			msg = fmt.Sprintf("Accepted publickey for %s from %s port %d ssh2", strings.ReplaceAll(u, " ", ""), a, port)
		case 6:
			msg = fmt.Sprintf("Connection closed by %s port %d [preauth]", a, port)
		case 7:
			msg = fmt.Sprintf("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=%s  user=%s", a, strings.ReplaceAll(u, " ", ""))
		default:
			msg = fmt.Sprintf("Server listening on %s port 22.", a)
		}
		fmt.Fprintf(&b, "%s host sshd[%d]: %s\n", ts, 1000+i, msg)
	}
	return b.String()
}

// TestRegexOutAgainstFail2banRegex runs f2bx regex -o id and
// fail2ban-regex -o id on the same generated sshd log and requires the
// same lines.
func TestRegexOutAgainstFail2banRegex(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	dir := t.TempDir()
	// Hostile user names; and a busy server whose sessions (sshd pids)
	// repeat, so that fail2ban's session cache (100 sessions, 5 minutes)
	// decides the outcome.
	busy := sshdlog.Generate(sshdlog.Spec{Lines: 30000, Failures: 0.05, Addresses: 5000, IPv6: 0.05, Start: time.Now().Add(-2 * time.Hour), Seed: 7})
	writeFiles(t, dir, map[string]string{"auth.log": sshdLog(3000, 1), "busy.log": string(busy)})
	tags := "<ip>|<F-USER>|<fid>|<time>|<failures>|<msg>|<unknown>|<ip-rev>|<family>"
	for _, tc := range [][3]string{{"auth.log", "sshd", "id"}, {"auth.log", "sshd[mode=aggressive]", "id"}, {"busy.log", "sshd", "id"}, {"auth.log", "sshd", tags}} {
		log, flt, out := filepath.Join(dir, tc[0]), tc[1], tc[2]
		want := run(t, pkg.Command("fail2ban-regex", "-o", out, "-c", pkg.ConfDir(), log, flt))
		got := run(t, exec.Command(f2bxBin, "regex", "-o", out, "-c", pkg.ConfDir(), log, flt))
		wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
		if len(wl) < 1000 {
			t.Fatalf("%s %s: fail2ban-regex found only %d failures", tc[0], flt, len(wl))
		}
		if i, _, _ := firstDiff(wl, gl); i >= 0 {
			t.Fatalf("%s %s: -o %s differs at line %d (fail2ban %d lines, f2bx %d)", tc[0], flt, out, i+1, len(wl), len(gl))
		}
		if out == "id" && (strings.Contains(got, "10.9.9.9") || strings.Contains(got, "198.51.100.200") || strings.Contains(got, "10.1.1.1")) {
			t.Errorf("%s: an address from a user name became a failure id", flt)
		}
		t.Logf("%s %s -o %s: %d lines, identical to fail2ban-regex", tc[0], flt, out, len(wl)-1)
	}
}

// TestRegexReportAgainstFail2banRegex compares the whole report of f2bx
// regex with fail2ban-regex's, but for the timing line and the engines
// section f2bx adds.
func TestRegexReportAgainstFail2banRegex(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	dir := t.TempDir()
	log := filepath.Join(dir, "auth.log")
	writeFiles(t, dir, map[string]string{"auth.log": sshdLog(400, 2)})
	clean := func(s string) string {
		var out []string
		skip := false
		for _, l := range strings.Split(s, "\n") {
			switch {
			case strings.HasPrefix(l, "[processed in"):
				continue
			case l == "Engines:":
				skip = true
				continue
			case skip && l == "`-":
				skip = false
				continue
			case skip:
				continue
			}
			out = append(out, strings.ReplaceAll(l, pkg.ConfDir(), "CONF"))
		}
		return strings.Join(out, "\n")
	}
	cases := [][]string{{log, "sshd"}, {log, "sshd[mode=aggressive]", "--print-all-matched"}, {log, `Invalid user \S+ from <HOST>`}}
	// Filters with a buffer of several lines, on their sample logs.
	samples := filepath.Join(pkg.PythonPath(), "fail2ban", "tests", "files", "logs")
	for _, f := range []string{"ejabberd-auth", "guacamole", "mongodb-auth", "slapd"} {
		cases = append(cases, []string{filepath.Join(samples, f), f})
	}
	for _, args := range cases {
		want := clean(run(t, pkg.Command("fail2ban-regex", append([]string{"-c", pkg.ConfDir()}, args...)...)))
		got := clean(run(t, exec.Command(f2bxBin, append([]string{"regex", "-c", pkg.ConfDir()}, args...)...)))
		if i, w, g := firstDiff(strings.Split(want, "\n"), strings.Split(got, "\n")); i >= 0 {
			t.Fatalf("%v: reports differ at line %d:\nfail2ban-regex: %s\nf2bx regex:     %s", args, i+1, w, g)
		}
	}
}
