package journal

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/f2bx/f2bx/source"
)

// fakeJournalctl writes a script that records its arguments, prints the
// given JSON entries, then follows (sleeps) until killed.
func fakeJournalctl(t *testing.T, entries string, exit string) (cmd, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	data := filepath.Join(dir, "entries")
	if err := os.WriteFile(data, []byte(entries), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd = filepath.Join(dir, "journalctl")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\ncat " + data + "\n" + exit + "\n"
	if err := os.WriteFile(cmd, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return cmd, argsFile
}

const entries = `{"__CURSOR":"s=1;i=1","__REALTIME_TIMESTAMP":"1700000000123456","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"sshd","_PID":"812","MESSAGE":"Failed password for root from 192.0.2.7 port 22 ssh2"}
{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1700000001000000","_HOSTNAME":"web1","_COMM":"sshd","SYSLOG_PID":"813","MESSAGE":[73,110,118,97,108,105,100,32,117,115,101,114,32,255,32,102,114,111,109,32,49,57,50,46,48,46,50,46,56]}
not json
{"__CURSOR":"s=1;i=3","__REALTIME_TIMESTAMP":"1700000002000000","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"kernel","_SOURCE_MONOTONIC_TIMESTAMP":"12345678","MESSAGE":["two","lines\nhere"]}
`

// TestJournal: entries formatted as fail2ban formats them (bytes and
// repeated MESSAGE fields, kernel timestamps, newlines escaped), with
// their times and the cursor; journalmatch and the cursor reach
// journalctl's arguments.
func TestJournal(t *testing.T) {
	cmd, argsFile := fakeJournalctl(t, entries, "exec sleep 60")
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan source.Batch, 4)
	done := make(chan error, 1)
	o := Options{Command: cmd, Cursor: "s=0;i=9", Matches: [][]string{{"_SYSTEMD_UNIT=sshd.service", "_COMM=sshd"}, {"_SYSTEMD_UNIT=ssh.service"}}}
	go func() { done <- Run(ctx, o, out) }()
	var got source.Batch
	for len(got.Lines) < 3 {
		select {
		case b := <-out:
			got.Lines = append(got.Lines, b.Lines...)
			got.Times = append(got.Times, b.Times...)
			got.Cursor = b.Cursor
		case <-time.After(5 * time.Second):
			t.Fatalf("got %q", got.Lines)
		}
	}
	want := []string{
		"web1 sshd[812]: Failed password for root from 192.0.2.7 port 22 ssh2",
		"web1 sshd[813]: Invalid user \xff from 192.0.2.8",
		`web1 kernel: [   12.345678] two lines\nhere`,
	}
	if !slices.Equal(got.Lines, want) {
		t.Errorf("lines\n%q\nwant\n%q", got.Lines, want)
	}
	if !got.Times[0].Equal(time.UnixMicro(1700000000123456)) || got.Cursor != "s=1;i=3" {
		t.Errorf("time %v, cursor %q", got.Times[0], got.Cursor)
	}
	args, _ := os.ReadFile(argsFile)
	if a := strings.Fields(string(args)); !slices.Contains(a, "--after-cursor=s=0;i=9") ||
		strings.Join(a[len(a)-4:], " ") != "_SYSTEMD_UNIT=sshd.service _COMM=sshd + _SYSTEMD_UNIT=ssh.service" {
		t.Errorf("journalctl arguments %q", a)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// TestJournalctlFails: journalctl's failure and message come back.
func TestJournalctlFails(t *testing.T) {
	cmd, _ := fakeJournalctl(t, "", "echo 'No journal files were found.' >&2; exit 1")
	err := Run(context.Background(), Options{Command: cmd}, make(chan source.Batch, 1))
	if err == nil || !strings.Contains(err.Error(), "No journal files were found.") {
		t.Errorf("got %v", err)
	}
	if a := (Options{}).Args(); !slices.Contains(a, "--lines=0") {
		t.Errorf("no cursor: %q, want --lines=0 (start at the end)", a)
	}
}
