package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBanStatusAndExpiry: failure lines become a ban shown in fail2ban's
// status layout; the ban ends on time.
func TestBanStatusAndExpiry(t *testing.T) {
	e := newEnv(t)
	setBanTime(t, e, "2s")
	e.start()
	e.fail(e.log, "192.0.2.7", 2)
	e.fail(e.log, "192.0.2.8", 1)
	e.waitStatus("sshd", "Total failed:\t3")
	e.fail(e.log, "192.0.2.7", 1)
	e.waitStatus("sshd", "Banned IP list:\t192.0.2.7")
	out, _ := e.cli("status", "sshd")
	want := fmt.Sprintf("Status for the jail: sshd\n|- Filter\n|  |- Currently failed:\t1\n|  |- Total failed:\t4\n|  `- File list:\t%s\n`- Actions\n   |- Currently banned:\t1\n   |- Total banned:\t1\n   `- Banned IP list:\t192.0.2.7\n", e.log)
	if out != want {
		t.Fatalf("status:\n%s\nwant:\n%s", out, want)
	}
	out, _ = e.cli("status")
	if out != "Status\n|- Number of jail:\t1\n`- Jail list:\tsshd\n" {
		t.Fatalf("status: %q", out)
	}
	if out, _ := e.cli("status", "sshd", "--json"); !strings.Contains(out, `"Banned IP list": [`) {
		t.Fatalf("status --json: %s", out)
	}
	eventually(t, 10*time.Second, func() string {
		if a := e.actions(); a != "ban 192.0.2.7\nunban 192.0.2.7\n" {
			return "actions: " + a
		}
		return ""
	})
	e.waitStatus("sshd", "Currently banned:\t0")
	if !strings.Contains(e.daemonLog(), "[sshd] Ban 192.0.2.7") || !strings.Contains(e.daemonLog(), "[sshd] Found 192.0.2.8 - ") {
		t.Fatalf("log:\n%s", e.daemonLog())
	}
	e.stop()
}

// setBanTime changes the ban time in the test's jail file.
func setBanTime(t *testing.T, e *env, bt string) {
	p := filepath.Join(e.dir, "conf", "jails.d", "test.toml")
	b, _ := os.ReadFile(p)
	s := strings.Replace(string(b), `bantime = "1h"`, fmt.Sprintf("bantime = %q", bt), 1)
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRestartKeepsBansAndPositions: after a stop and a start the bans are
// back, and no line read before is read again; after kill -9 too.
func TestRestartKeepsBansAndPositions(t *testing.T) {
	e := newEnv(t)
	e.start()
	e.fail(e.log, "192.0.2.10", 3)
	e.fail(e.log, "192.0.2.11", 2)
	e.waitStatus("sshd", "Banned IP list:\t192.0.2.10")
	e.waitStatus("sshd", "Total failed:\t5")
	e.stop()

	e.start()
	// Restored from the database; the old lines are not counted again.
	e.waitStatus("sshd", "Banned IP list:\t192.0.2.10")
	out, _ := e.cli("status", "sshd")
	if !strings.Contains(out, "Total failed:\t0") || !strings.Contains(out, "Currently banned:\t1") {
		t.Fatalf("after restart:\n%s\n%s", out, e.daemonLog())
	}
	// Lines written while it was stopped are read.
	e.stop()
	e.fail(e.log, "192.0.2.12", 3)
	e.start()
	e.waitStatus("sshd", "Banned IP list:\t192.0.2.10 192.0.2.12")

	// kill -9: the bans were written within a second; a start with -x
	// (the socket is stale) restores them.
	time.Sleep(1500 * time.Millisecond)
	e.proc.Process.Signal(syscall.SIGKILL)
	<-e.done
	e.done <- nil
	e.start("-x")
	e.waitStatus("sshd", "Banned IP list:\t192.0.2.10 192.0.2.12")
	out, _ = e.cli("status", "sshd")
	if !strings.Contains(out, "Total failed:\t0") {
		t.Fatalf("after kill -9 the old lines were read again:\n%s", out)
	}
	e.stop()
}

// TestHangingActionDoesNotBlockOtherJails: a jail whose action start and
// ban hang does not keep another jail from banning.
func TestHangingActionDoesNotBlockOtherJails(t *testing.T) {
	dir := t.TempDir()
	hangLog, goodLog := filepath.Join(dir, "hang.log"), filepath.Join(dir, "good.log")
	hang := fmt.Sprintf(`[hang]
enabled = true
filter = "sshd"
logpath = [%q]
maxretry = 1
ignoreself = false
ignoreip = []
[[hang.actions]]
name = "hang"
options = { actionstart = "sleep 20", actionban = "sleep 20", timeout = "30" }
`, hangLog)
	e := newEnv(t, hang, "")
	os.WriteFile(filepath.Join(e.dir, "conf", "jails.d", "test.toml"), []byte(hang+"\n"+jailTOML("good", goodLog, e.acts, "")), 0o644)
	os.WriteFile(hangLog, nil, 0o644)
	os.WriteFile(goodLog, nil, 0o644)
	e.start("--action-grace", "1s")
	e.fail(hangLog, "192.0.2.20", 2)
	e.waitStatus("hang", "Banned IP list:\t192.0.2.20")
	e.fail(goodLog, "192.0.2.21", 3)
	eventually(t, 10*time.Second, func() string {
		if !strings.Contains(e.actions(), "ban 192.0.2.21") {
			return "the good jail did not ban: " + e.actions()
		}
		return ""
	})
	// The hanging jail holds its ban batch; a stop still ends the daemon
	// (its actions get a bounded wait).
	e.stop()
}

// TestFail2banClientScript: a shell script written against
// fail2ban-client's syntax runs unchanged against the symlink.
func TestFail2banClientScript(t *testing.T) {
	e := newEnv(t)
	e.start()
	link := filepath.Join(e.dir, "bin", "fail2ban-client")
	os.MkdirAll(filepath.Dir(link), 0o755)
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	script := `set -e
fail2ban-client ping
fail2ban-client status
fail2ban-client set sshd banip 192.0.2.30 192.0.2.31
fail2ban-client get sshd banned
fail2ban-client get sshd banned 192.0.2.30
fail2ban-client banned 192.0.2.31
fail2ban-client get sshd maxretry
fail2ban-client set sshd maxretry 7
fail2ban-client get sshd findtime
fail2ban-client set sshd unbanip 192.0.2.30
fail2ban-client banned
fail2ban-client unban --all
if fail2ban-client status nojail; then echo "unexpected success"; fi
fail2ban-client set loglevel INFO
fail2ban-client get loglevel
fail2ban-client flushlogs
fail2ban-client stop sshd
fail2ban-client status
fail2ban-client version
`
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(link)+":"+os.Getenv("PATH"), "F2BX_SOCKET="+e.sock)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	want := `Server replied: pong
Status
|- Number of jail:	1
` + "`- Jail list:\tsshd" + `
2
['192.0.2.30', '192.0.2.31']
1
[['sshd']]
3
7
600
1
[{'sshd': ['192.0.2.31']}]
1
Sorry but the jail 'nojail' does not exist
f2bx: NOK: nojail
Current logging level is 'INFO'
Current logging level is 'INFO'
logs: rolled over
Jail stopped
Status
|- Number of jail:	0
` + "`- Jail list:\t" + `
`
	got := string(out)
	if !strings.HasPrefix(got, want) {
		t.Fatalf("script output:\n%s\nwant it to start with:\n%s", got, want)
	}
	if strings.Contains(got, "unexpected success") {
		t.Fatal("status of a missing jail succeeded")
	}
	e.stop()
}

// TestNonRootRefused: a user other than root cannot use the socket.
func TestNonRootRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	e := newEnv(t)
	e.start()
	for _, d := range []string{e.dir, filepath.Dir(e.dir), filepath.Dir(e.sock)} {
		os.Chmod(d, 0o755)
	}
	cmd := exec.Command(bin, "ping", "-s", e.sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 255 || !strings.Contains(string(out), "permission denied") {
		t.Fatalf("non-root ping: %v\n%s", err, out)
	}
	e.stop()
}

// TestReloadKeepsBansAndLines: a reload (command or SIGHUP) with a changed
// configuration keeps the bans, applies the new settings, and reads the
// lines written meanwhile exactly once.
func TestReloadKeepsBansAndLines(t *testing.T) {
	e := newEnv(t)
	e.start()
	e.fail(e.log, "192.0.2.40", 3)
	e.waitStatus("sshd", "Banned IP list:\t192.0.2.40")
	p := filepath.Join(e.dir, "conf", "jails.d", "test.toml")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(b), "maxretry = 3", "maxretry = 2", 1)), 0o644)
	e.fail(e.log, "192.0.2.41", 1)
	if out, code := e.cli("reload"); code != 0 || out != "OK\n" {
		t.Fatalf("reload: %d %q", code, out)
	}
	if out, _ := e.cli("get", "sshd", "maxretry"); out != "2\n" {
		t.Fatalf("maxretry after reload: %q", out)
	}
	e.waitStatus("sshd", "Banned IP list:\t192.0.2.40")
	e.fail(e.log, "192.0.2.42", 2)
	e.waitStatus("sshd", "Banned IP list:\t192.0.2.40 192.0.2.42")
	// SIGHUP reloads too.
	e.proc.Process.Signal(syscall.SIGHUP)
	eventually(t, 10*time.Second, func() string {
		if strings.Count(e.daemonLog(), "reloaded the configuration") < 2 {
			return "no reload on SIGHUP:\n" + e.daemonLog()
		}
		return ""
	})
	e.waitStatus("sshd", "Banned IP list:\t192.0.2.40 192.0.2.42")
	if n := strings.Count(e.daemonLog(), "Found 192.0.2.40"); n != 3 {
		t.Fatalf("192.0.2.40's lines were found %d times, want 3", n)
	}
	e.stop()
}

// TestMakeInstall: make install puts the binary, the unit (with its path),
// the configuration skeleton and the state folder in place, and the
// fail2ban-client link only on request.
func TestMakeInstall(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	root := t.TempDir()
	cmd := exec.Command("make", "-C", "../..", "install", "DESTDIR="+root, "PREFIX=/usr", "FAIL2BAN_CLIENT=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	unit, err := os.ReadFile(filepath.Join(root, "lib/systemd/system/f2bx.service"))
	if err != nil || !strings.Contains(string(unit), "ExecStart=/usr/bin/f2bx start -f") || !strings.Contains(string(unit), "Type=notify") {
		t.Fatalf("unit: %v\n%s", err, unit)
	}
	for _, p := range []string{"usr/bin/f2bx", "etc/f2bx/f2bx.toml", "etc/f2bx/jails.d", "var/lib/f2bx"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("missing %s: %v", p, err)
		}
	}
	if l, err := os.Readlink(filepath.Join(root, "usr/bin/fail2ban-client")); err != nil || l != "f2bx" {
		t.Errorf("fail2ban-client link: %q %v", l, err)
	}
	// The skeleton is a valid configuration.
	out, err := exec.Command(bin, "config", "test", "-c", filepath.Join(root, "etc/f2bx")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK: configuration test is successful") {
		t.Fatalf("config test of the skeleton: %v\n%s", err, out)
	}
}

// TestBackgroundStartAndRestart: "f2bx start" without -f starts the daemon
// in the background and returns once it answers; "restart" stops and
// starts it again; the daemon logs to stderr without dying when the
// starting process has exited.
func TestBackgroundStartAndRestart(t *testing.T) {
	e := newEnv(t)
	pidfile := filepath.Join(e.dir, "run", "f2bx.pid")
	args := []string{"-c", filepath.Join(e.dir, "conf"), "-s", e.sock, "-p", pidfile, "--db", filepath.Join(e.dir, "f2bx.db"), "--pin-dir", "none"}
	t.Cleanup(func() {
		if b, err := os.ReadFile(pidfile); err == nil {
			var pid int
			fmt.Sscan(string(b), &pid)
			if p, err := os.FindProcess(pid); err == nil && pid > 0 {
				p.Signal(syscall.SIGKILL)
			}
		}
	})
	for _, verb := range []string{"start", "restart"} {
		// Output to a file, as to a terminal: the daemon keeps the stderr
		// it inherits, so a pipe would never reach its end.
		outPath := filepath.Join(e.dir, verb+".out")
		out, err := os.Create(outPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, append([]string{verb}, args...)...)
		cmd.Stdout, cmd.Stderr = out, out
		err = cmd.Run()
		out.Close()
		if err != nil {
			b, _ := os.ReadFile(outPath)
			t.Fatalf("%s: %v\n%s", verb, err, b)
		}
		if out, code := e.cli("ping"); code != 0 || out != "Server replied: pong\n" {
			t.Fatalf("after %s: ping %d %q", verb, code, out)
		}
		e.fail(e.log, "192.0.2.90", 1) // a logged Found line after the starter exited
		e.waitStatus("sshd", "Total failed:\t1")
	}
	if out, _ := e.cli("get", "dbfile"); out != "Current database file is:\n`- "+filepath.Join(e.dir, "f2bx.db")+"\n" {
		t.Fatalf("get dbfile: %q", out)
	}
	if out, code := e.cli("stop"); code != 0 || !strings.Contains(out, "Shutdown successful") {
		t.Fatalf("stop: %d %s", code, out)
	}
}
