package logging

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

func TestLayout(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 11, 22, 10, 0, 1, 123e6, time.UTC)
	log := slog.New(New(&buf, Options{Now: func() time.Time { return now }, PID: 42}))
	log.With("jail", "sshd").Log(context.Background(), LevelNotice, "Ban", "id", "192.0.2.1", "bantime", 600)
	log.Info("Found", "jail", "sshd", "id", "192.0.2.1", "-", "2026-11-22 09:59:59", "user", "a b\nc")
	log.Debug("hidden")
	want := "2026-11-22 10:00:01,123 f2bx [42]: NOTICE   [sshd] Ban 192.0.2.1 bantime=600\n" +
		"2026-11-22 10:00:01,123 f2bx [42]: INFO     [sshd] Found 192.0.2.1 - 2026-11-22 09:59:59 user=\"a b\\nc\"\n"
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

// TestRateLimit: past the burst, identical messages are held back and
// counted, and the count is reported when the window ends.
func TestRateLimit(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	log := slog.New(New(&buf, Options{Now: func() time.Time { return now }, NoTime: true, PID: 1, Burst: 3, Window: time.Second}))
	for range 10 {
		log.Info("Found", "jail", "sshd", "id", "192.0.2.1")
	}
	log.Info("other")
	if n := strings.Count(buf.String(), "Found"); n != 3 {
		t.Fatalf("%d Found lines in the window, want 3:\n%s", n, buf.String())
	}
	now = now.Add(time.Second)
	log.Info("Found", "jail", "sshd", "id", "192.0.2.2")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 6 || !strings.Contains(lines[4], `[sshd] 7 more "Found" messages suppressed`) || !strings.HasSuffix(lines[5], "[sshd] Found 192.0.2.2") {
		t.Fatalf("lines:\n%s", buf.String())
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]string{"notice": "NOTICE", "DEBUG": "DEBUG", "40": "ERROR", "HEAVYDEBUG": "TRACEDEBUG", "warning": "WARNING"} {
		l, err := ParseLevel(in)
		if err != nil || LevelName(l) != want {
			t.Errorf("%s: %v %v, want %s", in, LevelName(l), err, want)
		}
	}
	if _, err := ParseLevel("LOUD"); err == nil {
		t.Error("LOUD accepted")
	}
}

// The level and the target change while running, for the handler and
// those derived from it; a bad target leaves the log where it was.
func TestSetLevelAndTarget(t *testing.T) {
	dir := t.TempDir()
	first, second := dir+"/first.log", dir+"/second.log"
	h, err := Open(first, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	log := slog.New(h).With("jail", "sshd")
	log.Debug("not yet")
	h.SetLevel(slog.LevelDebug)
	log.Debug("now debug")
	if err := h.SetTarget(dir + "/missing/dir/x.log"); err == nil {
		t.Fatal("a target in a missing directory was accepted")
	}
	if err := h.SetTarget(second); err != nil {
		t.Fatal(err)
	}
	log.Info("moved")
	if h.Target() != second || LevelName(h.Level()) != "DEBUG" {
		t.Fatalf("target %s level %s", h.Target(), LevelName(h.Level()))
	}
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if strings.Contains(string(a), "not yet") || !strings.Contains(string(a), "[sshd] now debug") || strings.Contains(string(a), "moved") {
		t.Fatalf("first target: %q", a)
	}
	if !strings.Contains(string(b), "[sshd] moved") {
		t.Fatalf("second target: %q", b)
	}
}
