package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs f2bx in-process and returns its output and exit code.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newRootCmd(&out, &errb)
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		errb.WriteString(err.Error())
		code = exitCode(err)
	}
	return out.String(), errb.String(), code
}

func TestVersion(t *testing.T) {
	out, _, code := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "f2bx ") {
		t.Errorf("version: %q %d", out, code)
	}
}

func TestConfigTestNative(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "jails.d"), 0o755)
	good := filepath.Join(dir, "jails.d", "sshd.toml")
	os.WriteFile(good, []byte("[sshd]\nmaxretry = 3\n"), 0o644)
	out, errs, code := runCLI(t, "config", "test", "-c", dir)
	if code != 0 || !strings.Contains(out, "OK: configuration test is successful") || !strings.Contains(out, "f2bx configuration in "+dir) {
		t.Errorf("good config: code %d\n%s\n%s", code, out, errs)
	}
	os.WriteFile(good, []byte("[sshd]\nmaxretry = 3\nbogus = 1\n"), 0o644)
	_, errs, code = runCLI(t, "-t", "-c", dir)
	if code == 0 || !strings.Contains(errs, dir+"/jails.d/sshd.toml:3:1: unknown key \"sshd.bogus\"") {
		t.Errorf("bad config: code %d, %s", code, errs)
	}
}

func TestConfigDumpJSON(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "jails.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "jails.d", "sshd.toml"), []byte("[sshd]\nbantime = \"1d\"\n"), 0o644)
	out, errs, code := runCLI(t, "config", "dump", "--json", "--jail", "sshd", "--fail2ban-dir", dir)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	var j struct {
		Name    string
		BanTime float64 `json:"bantime"`
		Filter  struct{ FailRegex []string }
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	if j.Name != "sshd" || j.BanTime != 86400 || len(j.Filter.FailRegex) == 0 {
		t.Errorf("dumped %+v", j)
	}
	if _, _, code := runCLI(t, "config", "dump", "-c", dir); code == 0 {
		t.Error("dump without --stream or --json succeeded")
	}
}
