package command

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/filter/fields"
	"github.com/f2bx/f2bx/jail"
)

func recording(t *testing.T, dir string, extra ...config.Option) config.Action {
	t.Helper()
	log, flag := filepath.Join(dir, "log"), filepath.Join(dir, "flag")
	a := config.Action{Name: "record"}
	for _, o := range []config.Option{
		{Key: "log", Value: log},
		{Key: "flag", Value: flag},
		{Key: "name", Value: "sshd"},
		{Key: "port", Value: "ssh"},
		{Key: "protocol", Value: "tcp"},
		{Key: "actionstart", Value: "echo start <name> >> <log>"},
		{Key: "actionstop", Value: "echo stop <name> >> <log>"},
		{Key: "actioncheck", Value: "test -f <flag>"},
		{Key: "actionrepair", Value: "touch <flag>; echo repair >> <log>"},
		{Key: "actionflush", Value: "echo flush >> <log>"},
		{Key: "actionban", Value: `test -f <flag> && echo "ban <ip> <family> <ip-rev> <fid> <failures> <time> <bantime> <bancount> <name> <port> <protocol> <restored><sp>end" >> <log> && echo "M:<matches>" >> <log> && echo U:<F-USER> >> <log>`},
		{Key: "actionunban", Value: "echo unban <ip> >> <log>"},
		{Key: "actionprolong", Value: "echo prolong <ip> <bantime> >> <log>"},
	} {
		a.Set(o.Key, o.Value)
	}
	for _, o := range extra {
		a.Set(o.Key, o.Value)
	}
	return a
}

func readLog(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

func ticket(ip string) *jail.Ticket {
	return &jail.Ticket{Jail: "sshd", ID: ip, Addr: netip.MustParseAddr(ip), Time: 1_700_000_000, BanTime: 600, Count: 1, Failures: 3}
}

// TestRecordingAction runs a real action: start, a ban that fails until
// actioncheck/actionrepair fixed the environment, every tag, unban,
// prolong, flush and stop, in that order.
func TestRecordingAction(t *testing.T) {
	dir := t.TempDir()
	a, err := New(Config{Jail: "sshd", Action: recording(t, dir), BanTime: 600, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	tk := ticket("192.0.2.7")
	tk.Matches = []string{"line one", "line two"}
	tk.Fields = fields.Of(map[string]any{"user": "alice"})
	tk6 := ticket("2001:db8::7")
	tk6.Restored, tk6.BanTime, tk6.Count = true, -1, 4
	must(t, a.Ban(ctx, []*jail.Ticket{tk}))
	must(t, a.Ban(ctx, []*jail.Ticket{tk6}))
	must(t, a.Prolong(ctx, []*jail.Ticket{tk}))
	must(t, a.Unban(ctx, []*jail.Ticket{tk}))
	ok, err := a.Flush(ctx)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	must(t, a.Stop(ctx))
	want := []string{
		"start sshd",
		"repair",
		"ban 192.0.2.7 inet4 7.2.0.192. 192.0.2.7 3 1700000000.0 600 1 sshd ssh tcp 0 end",
		"M:line one",
		"line two",
		"U:alice",
		"ban 2001:db8::7 inet6 7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2. 2001:db8::7 3 1700000000.0 -1 4 sshd ssh tcp 1 end",
		"M:",
		"U:",
		"prolong 192.0.2.7 600",
		"unban 192.0.2.7",
		"flush",
		"stop sshd",
	}
	got := readLog(t, dir)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLogTextNeverRunsAsShell bans with a user name and matches made of
// shell syntax: they must reach the log verbatim and run nothing.
func TestLogTextNeverRunsAsShell(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "flag"), nil, 0o644))
	a, err := New(Config{Jail: "sshd", Action: recording(t, dir)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	pwned := filepath.Join(dir, "pwned")
	evil := []string{
		"x$(touch " + pwned + "1);",
		"x`touch " + pwned + "2`",
		"x'; touch " + pwned + "3; echo '",
		`x"; touch ` + pwned + `4; echo "`,
		"x\ntouch " + pwned + "5",
		"x && touch " + pwned + "6 || true",
		"$(touch${IFS}" + pwned + "7)",
	}
	ctx := context.Background()
	for i, user := range evil {
		tk := ticket(fmt.Sprintf("192.0.2.%d", i+1))
		tk.Fields = fields.Of(map[string]any{"user": user})
		tk.Matches = []string{"Invalid user " + user + " from 192.0.2.1"}
		must(t, a.Ban(ctx, []*jail.Ticket{tk}))
	}
	must(t, a.Stop(ctx))
	for i := range evil {
		if _, err := os.Stat(fmt.Sprintf("%s%d", pwned, i+1)); err == nil {
			t.Errorf("user name %q ran a command", evil[i])
		}
	}
	log := strings.Join(readLog(t, dir), "\n")
	for _, user := range evil {
		if !strings.Contains(log, "M:Invalid user "+user+" from") {
			t.Errorf("match with %q not logged verbatim:\n%s", user, log)
		}
	}
}

// TestStartOnDemandPerFamily: an action with [Init?family=inet6]-style
// options starts each family on its first ban, and stops both.
func TestStartOnDemandPerFamily(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "flag"), nil, 0o644))
	act := recording(t, dir,
		config.Option{Key: "actionstart", Value: "echo start <family> <table> >> <log>"},
		config.Option{Key: "actionstop", Value: "echo stop <family> <table> >> <log>"},
		config.Option{Key: "table", Value: "t4"},
		config.Option{Key: "table?family=inet6", Value: "t6"})
	a, err := New(Config{Jail: "sshd", Action: act, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	must(t, a.Start(ctx))
	must(t, a.Ban(ctx, []*jail.Ticket{ticket("2001:db8::1")}))
	must(t, a.Ban(ctx, []*jail.Ticket{ticket("2001:db8::2")}))
	must(t, a.Ban(ctx, []*jail.Ticket{ticket("192.0.2.1")}))
	must(t, a.Stop(ctx))
	var starts []string
	for _, l := range readLog(t, dir) {
		if strings.HasPrefix(l, "start") || strings.HasPrefix(l, "stop") {
			starts = append(starts, l)
		}
	}
	want := "start inet6 t6|start inet4 t4|stop inet6 t6|stop inet4 t4" // as fail2ban: in the order started
	if got := strings.Join(starts, "|"); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestSlowActionDoesNotBlock: with every command stuck, Ban still returns
// at once (queued), no more commands run at a time than Workers, and one
// address's commands keep their order.
func TestSlowActionDoesNotBlock(t *testing.T) {
	release := make(chan struct{})
	var running, peak atomic.Int32
	var mu sync.Mutex
	var order []string
	runner := func(ctx context.Context, s Script, _ time.Duration) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		running.Add(-1)
		mu.Lock()
		order = append(order, s.Cmd)
		mu.Unlock()
		return nil
	}
	act := config.Action{Name: "slow"}
	act.Set("actionban", "ban <ip>")
	act.Set("actionunban", "unban <ip>")
	a, err := New(Config{Jail: "sshd", Action: act, Workers: 3, Runner: runner})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var batch []*jail.Ticket
	for i := 0; i < 50; i++ {
		batch = append(batch, ticket(fmt.Sprintf("192.0.2.%d", i+1)))
	}
	done := make(chan error, 1)
	go func() { done <- errors.Join(a.Ban(ctx, batch), a.Unban(ctx, batch)) }()
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Ban blocked behind stuck commands")
	}
	close(release)
	a.Close()
	if p := peak.Load(); p > 3 || p < 1 {
		t.Errorf("%d commands ran at once, want at most 3", p)
	}
	pos := map[string]int{}
	for i, c := range order {
		pos[c] = i
	}
	if len(order) != 100 {
		t.Fatalf("%d commands ran, want 100", len(order))
	}
	for _, tk := range batch {
		if pos["ban "+tk.ID] > pos["unban "+tk.ID] {
			t.Errorf("%s: unban ran before ban", tk.ID)
		}
	}
}

// TestRunKillsTheGroupOnTimeout: a command past its timeout is killed with
// everything it started.
func TestRunKillsTheGroupOnTimeout(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	err := Run(context.Background(), Script{Cmd: "sleep 30 & echo $! > " + pidFile + "; wait"}, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err %v, want a timeout", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	time.Sleep(100 * time.Millisecond)
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !strings.Contains(string(st), ") Z ") {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("child %d still running after the timeout: %s", pid, st)
	}
	// Values are positional parameters, not shell text.
	out := filepath.Join(t.TempDir(), "out")
	must(t, Run(context.Background(), Script{Cmd: "f2bV_x=$0 \nprintf %s \"$f2bV_x\" > " + out, Args: []string{"$(id)`id`"}}, time.Second))
	if b, _ := os.ReadFile(out); string(b) != "$(id)`id`" {
		t.Errorf("got %q", b)
	}
}
