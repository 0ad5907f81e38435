package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/control"
	"github.com/f2bx/f2bx/logging"
	"github.com/f2bx/f2bx/ringbuf"
)

// testJail is an sshd-like jail whose action records bans in a file.
func testJail(name, acts string) *config.Jail {
	return &config.Jail{
		Name: name, MaxRetry: 3, MaxMatches: 3, FindTime: config.DurationOf(600), BanTime: config.DurationOf(3600),
		Filter: config.Filter{UseDNS: "no", MaxLines: 1,
			FailRegex: []string{`Failed password for \S+ from <HOST>`}},
		Actions: []config.Action{{Name: "record", Options: []config.Option{
			{Key: "actionban", Value: "echo ban <ip> >> " + acts},
			{Key: "actionunban", Value: "echo unban <ip> >> " + acts}}}},
	}
}

// run starts a daemon on cfg and returns it with a function that stops it
// and returns Run's error.
func run(t *testing.T, cfg *config.Config, mod func(*Options)) (*Daemon, func() error) {
	t.Helper()
	o := Options{Config: cfg, DBFile: "none", Version: "test"}
	if mod != nil {
		mod(&o)
	}
	ready := make(chan struct{})
	o.OnReady = func() { close(ready) }
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("daemon stopped while starting: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("daemon did not start")
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("daemon did not stop")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return d, stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for " + what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func banned(t *testing.T, d *Daemon, jail string) string {
	t.Helper()
	v, err := d.Handle(context.Background(), []string{"get", jail, "banned"})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(v.([]string), " ")
}

// TestRingSource: a jail reading a shared-memory ring with two reader
// goroutines bans from lines written into any segment.
func TestRingSource(t *testing.T) {
	name := fmt.Sprintf("f2bxtest-%d", os.Getpid())
	r, err := ringbuf.Create(name, ringbuf.Options{Segments: 2, Lines: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer ringbuf.Remove(name)
	defer r.Close()
	acts := filepath.Join(t.TempDir(), "acts")
	j := testJail("app", acts)
	j.LogPaths = []config.LogPath{{Path: "ring:" + name}}
	d, stop := run(t, &config.Config{Jails: []*config.Jail{j}}, func(o *Options) { o.RingReaders = 2 })
	for seg := range 2 {
		w, err := r.NewWriter(seg)
		if err != nil {
			t.Fatal(err)
		}
		ip := fmt.Sprintf("192.0.2.%d", 50+seg)
		for range 3 {
			if err := w.Write([]byte("Failed password for root from " + ip + " port 22")); err != nil {
				t.Fatal(err)
			}
		}
		w.Close()
	}
	waitFor(t, "ring bans", func() bool { return banned(t, d, "app") == "192.0.2.50 192.0.2.51" })
	v, _ := d.Handle(context.Background(), []string{"status", "app"})
	b, _ := json.Marshal(v)
	if !strings.Contains(string(b), `["File list",["ring:`+name+`"]]`) {
		t.Fatalf("status: %s", b)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := r.Stat(); len(st.Readers) != 0 {
		t.Fatalf("the daemon's reader is still attached: %+v", st.Readers)
	}
}

// fakeJournalctl writes a journalctl that records its arguments and prints
// entries, then waits (or exits with the given line).
func fakeJournalctl(t *testing.T, dir, entries, then string) (cmd, args string) {
	data := filepath.Join(dir, "entries.json")
	args = filepath.Join(dir, "args")
	os.WriteFile(data, []byte(entries), 0o644)
	cmd = filepath.Join(dir, "journalctl")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" >> " + args + "\ncat " + data + "\n" + then + "\n"
	if err := os.WriteFile(cmd, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return cmd, args
}

func entry(msg, cursor string, at time.Time) string {
	b, _ := json.Marshal(map[string]string{"MESSAGE": msg, "__CURSOR": cursor, "__REALTIME_TIMESTAMP": fmt.Sprint(at.UnixMicro()), "_COMM": "sshd"})
	return string(b) + "\n"
}

// TestJournalSource: a systemd jail bans from journal entries; the cursor
// is saved and the next start resumes after it.
func TestJournalSource(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	var entries string
	for i := range 3 {
		entries += entry("Failed password for root from 192.0.2.60 port 22", fmt.Sprintf("c%d", i), now)
	}
	cmd, args := fakeJournalctl(t, dir, entries, "exec sleep 30")
	j := testJail("sshd", filepath.Join(dir, "acts"))
	j.Backend = "systemd"
	j.JournalMatch = [][]string{{"_COMM=sshd"}}
	db := filepath.Join(dir, "f2bx.db")
	cfg := &config.Config{Jails: []*config.Jail{j}}
	d, stop := run(t, cfg, func(o *Options) { o.JournalCommand, o.DBFile = cmd, db })
	waitFor(t, "journal ban", func() bool { return banned(t, d, "sshd") == "192.0.2.60" })
	v, _ := d.Handle(context.Background(), []string{"status", "sshd"})
	b, _ := json.Marshal(v)
	if !strings.Contains(string(b), `["Journal matches",["_COMM=sshd"]]`) {
		t.Fatalf("status: %s", b)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	d, stop = run(t, cfg, func(o *Options) { o.JournalCommand, o.DBFile = cmd, db })
	waitFor(t, "restored ban", func() bool { return banned(t, d, "sshd") == "192.0.2.60" })
	waitFor(t, "journalctl to run again", func() bool {
		a, _ := os.ReadFile(args)
		return strings.Count(string(a), "--follow") == 2
	})
	stop()
	a, _ := os.ReadFile(args)
	if !strings.Contains(string(a), "--after-cursor=c2") && !strings.Contains(string(a), "--after-cursor\nc2") {
		t.Fatalf("the second start did not resume after the saved cursor:\n%s", a)
	}
}

// TestFailingSourceStopsDaemon: a source that fails stops the daemon with
// an error instead of leaving it running half-alive.
func TestFailingSourceStopsDaemon(t *testing.T) {
	dir := t.TempDir()
	cmd, _ := fakeJournalctl(t, dir, "", "sleep 0.2; echo 'No journal files were found.' >&2; exit 1")
	j := testJail("sshd", filepath.Join(dir, "acts"))
	j.Backend = "systemd"
	d, err := New(Options{Config: &config.Config{Jails: []*config.Jail{j}}, DBFile: "none", JournalCommand: cmd})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "journal") {
			t.Fatalf("Run returned %v, want the journal's failure", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon kept running after its source failed")
	}
}

// TestCommands: fail2ban's commands on a running daemon.
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "auth.log")
	os.WriteFile(log, nil, 0o644)
	j := testJail("sshd", filepath.Join(dir, "acts"))
	j.LogPaths = []config.LogPath{{Path: log}}
	j.IgnoreIP = []string{"192.0.2.99"}
	d, _ := run(t, &config.Config{Jails: []*config.Jail{j}}, nil)
	ctx := context.Background()
	call := func(cmd ...string) any {
		v, err := d.Handle(ctx, cmd)
		if err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		b, _ := json.Marshal(v)
		v2, _ := control.Decode(b)
		return v2
	}
	if got := control.Beautify([]string{"set", "sshd", "banip"}, call("set", "sshd", "banip", "192.0.2.70", "::ffff:192.0.2.71")); got != "2" {
		t.Fatalf("banip: %s", got)
	}
	if got := control.PyRepr(call("banned", "192.0.2.71")); got != "[['sshd']]" {
		t.Fatalf("banned: %s", got)
	}
	if got := control.PyRepr(call("set", "sshd", "bantime", "1d")); got != "86400" {
		t.Fatalf("set bantime: %s", got)
	}
	if got := control.PyRepr(call("set", "sshd", "addignoreip", "198.51.100.0/24")); got != "['192.0.2.99', '198.51.100.0/24']" {
		t.Fatalf("addignoreip: %s", got)
	}
	if got := control.PyRepr(call("set", "sshd", "delignoreip", "192.0.2.99")); got != "['198.51.100.0/24']" {
		t.Fatalf("delignoreip: %s", got)
	}
	if got := call("get", "sshd", "banip", "--with-time"); !strings.Contains(control.Beautify([]string{"get", "sshd", "banip", "--with-time"}, got), "192.0.2.70 \t") {
		t.Fatalf("banip --with-time: %v", got)
	}
	if got := control.PyRepr(call("unban", "192.0.2.70", "192.0.2.200")); got != "1" {
		t.Fatalf("unban: %s", got)
	}
	if _, err := d.Handle(ctx, []string{"set", "sshd", "unbanip", "--report-absent", "192.0.2.200"}); err == nil {
		t.Fatal("unbanip --report-absent of an address not banned succeeded")
	}
	if _, err := d.Handle(ctx, []string{"status", "nojail"}); control.KindOf(err) != control.KindUnknownJail {
		t.Fatalf("unknown jail: %v", err)
	}
	if _, err := d.Handle(ctx, []string{"frobnicate"}); control.KindOf(err) != control.KindInvalid {
		t.Fatalf("invalid command: %v", err)
	}
	if got := control.PyRepr(call("unban", "--all")); got != "1" {
		t.Fatalf("unban --all: %s", got)
	}
}

// A reload keeps failure counts that have not reached maxretry (as
// fail2ban keeps its jails' tickets); "reload JAIL" applies only that
// jail's new configuration; "reload --restart JAIL" drops its counts;
// "stop JAIL" stops it and lifts its bans from the actions.
func TestReloadJails(t *testing.T) {
	dir := t.TempDir()
	logA, logB := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	os.WriteFile(logA, nil, 0o644)
	os.WriteFile(logB, nil, 0o644)
	jails := func(maxA, maxB int) *config.Config {
		a, b := testJail("a", filepath.Join(dir, "acts-a")), testJail("b", filepath.Join(dir, "acts-b"))
		a.LogPaths, b.LogPaths = []config.LogPath{{Path: logA}}, []config.LogPath{{Path: logB}}
		a.MaxRetry, b.MaxRetry = maxA, maxB
		return &config.Config{Jails: []*config.Jail{a, b}}
	}
	onDisk := jails(3, 3)
	d, _ := run(t, onDisk, func(o *Options) {
		o.Reload = func() (*config.Config, error) { return onDisk, nil }
	})
	ctx := context.Background()
	call := func(cmd ...string) any {
		t.Helper()
		v, err := d.Handle(ctx, cmd)
		if err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		return v
	}
	failed := func(jail string) int {
		t.Helper()
		v := call("status", jail)
		b, _ := json.Marshal(v)
		var st [][]any
		json.Unmarshal(b, &st)
		filter := st[0][1].([]any)
		return int(filter[0].([]any)[1].(float64))
	}
	write := func(path, ip string, n int) {
		f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		for range n {
			fmt.Fprintf(f, "%s host sshd[1]: Failed password for root from %s port 22 ssh2\n", time.Now().Format("Jan _2 15:04:05"), ip)
		}
		f.Close()
	}
	write(logA, "192.0.2.1", 2)
	write(logB, "192.0.2.2", 2)
	waitFor(t, "two failures in each jail", func() bool { return failed("a") == 1 && failed("b") == 1 })

	// A full reload keeps both counts.
	call("reload")
	if a, b := failed("a"), failed("b"); a != 1 || b != 1 {
		t.Fatalf("after reload: currently failed a=%d b=%d, want 1 and 1", a, b)
	}
	// The third failure bans: the two before the reload counted.
	write(logA, "192.0.2.1", 1)
	waitFor(t, "ban in a", func() bool { v, _ := d.Handle(ctx, []string{"get", "a", "banned", "192.0.2.1"}); return v == 1 })

	// "reload b" applies b's new maxretry only.
	onDisk = jails(5, 2)
	call("reload", "b")
	if got := call("get", "a", "maxretry"); got != 3 {
		t.Fatalf("reload b changed a's maxretry to %v", got)
	}
	if got := call("get", "b", "maxretry"); got != 2 {
		t.Fatalf("reload b: b's maxretry %v, want 2", got)
	}
	if b := failed("b"); b != 1 {
		t.Fatalf("reload b lost b's count: %d", b)
	}
	// "reload --restart b" starts b afresh.
	call("reload", "--restart", "b")
	if b := failed("b"); b != 0 {
		t.Fatalf("reload --restart b kept its count: %d", b)
	}
	if _, err := d.Handle(ctx, []string{"reload", "nojail"}); control.KindOf(err) != control.KindUnknownJail {
		t.Fatalf("reload of an unknown jail: %v", err)
	}
	// "stop a" stops the jail and runs its unban action for its bans.
	if v := call("stop", "a"); v != nil {
		t.Fatalf("stop a answered %v (fail2ban answers None: \"Jail stopped\")", v)
	}
	if _, err := d.Handle(ctx, []string{"status", "a"}); control.KindOf(err) != control.KindUnknownJail {
		t.Fatalf("a still runs after stop a: %v", err)
	}
	acts, _ := os.ReadFile(filepath.Join(dir, "acts-a"))
	if !strings.Contains(string(acts), "unban 192.0.2.1") {
		t.Fatalf("stop a did not lift its ban; actions: %q", acts)
	}
}

// set loglevel and logtarget change the log at runtime; flushlogs reopens
// a rotated log file (logrotate's postrotate).
func TestLogCommands(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "f2bx.log"), filepath.Join(dir, "other.log")
	h, err := logging.Open(first, logging.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	d, _ := run(t, &config.Config{Jails: []*config.Jail{testJail("sshd", filepath.Join(dir, "acts"))}}, func(o *Options) {
		o.Log, o.LogControl = slog.New(h), h
	})
	ctx := context.Background()
	for _, c := range []struct {
		cmd  []string
		want any
	}{
		{[]string{"set", "loglevel", "DEBUG"}, "DEBUG"},
		{[]string{"get", "loglevel"}, "DEBUG"},
		{[]string{"set", "logtarget", second}, second},
		{[]string{"get", "logtarget"}, second},
	} {
		if v, err := d.Handle(ctx, c.cmd); err != nil || v != c.want {
			t.Fatalf("%v: %v, %v; want %v", c.cmd, v, err, c.want)
		}
	}
	if _, err := d.Handle(ctx, []string{"set", "loglevel", "LOUD"}); control.KindOf(err) != control.KindInvalid {
		t.Fatalf("bad level: %v", err)
	}
	if err := os.Rename(second, second+".1"); err != nil {
		t.Fatal(err)
	}
	if v, err := d.Handle(ctx, []string{"flushlogs"}); err != nil || v != "rolled over" {
		t.Fatalf("flushlogs: %v, %v", v, err)
	}
	d.Handle(ctx, []string{"set", "sshd", "banip", "192.0.2.9"})
	old, _ := os.ReadFile(first)
	rotated, _ := os.ReadFile(second + ".1")
	cur, _ := os.ReadFile(second)
	if !strings.Contains(string(old), "log level changed level=DEBUG") || strings.Contains(string(old), "Ban 192.0.2.9") {
		t.Fatalf("first log: %q", old)
	}
	if !strings.Contains(string(rotated), "log target changed") || !strings.Contains(string(cur), "rollover performed") {
		t.Fatalf("rotated: %q\ncurrent: %q", rotated, cur)
	}
	waitFor(t, "the ban in the reopened log", func() bool {
		cur, _ := os.ReadFile(second)
		return strings.Contains(string(cur), "[sshd] Ban 192.0.2.9")
	})
}

// TestSessionsAcrossWorkers: batches searched on two filter workers are
// merged into the filter's sessions in order, so a connection whose
// address comes in one batch and whose failures (lines without address)
// come in a later one is banned.
func TestSessionsAcrossWorkers(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "auth.log")
	os.WriteFile(log, nil, 0o644)
	j := testJail("app", filepath.Join(dir, "acts"))
	j.Filter = config.Filter{UseDNS: "no", MaxLines: 1,
		PrefRegex: `^<F-MLFID>app\[\d+\]:</F-MLFID> <F-CONTENT>.+</F-CONTENT>$`,
		FailRegex: []string{`^<F-NOFAIL>connect from</F-NOFAIL> <HOST>$`, `^auth failed$`}}
	j.LogPaths = []config.LogPath{{Path: log}}
	d, _ := run(t, &config.Config{Jails: []*config.Jail{j}}, func(o *Options) { o.FilterWorkers = 2 })
	lines := func() int64 {
		var n int64
		for _, s := range d.Metrics().Sources() {
			n += int64(s.Lines)
		}
		return n
	}
	appendLines := func(text string) {
		f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(text); err != nil {
			t.Fatal(err)
		}
	}
	// Enough noise that each write is read in batches larger than those a
	// stream matches inline.
	noise := strings.Repeat("other[1]: nothing to see\n", 3*inlineBelow)
	appendLines(noise + "app[42]: connect from 192.0.2.42\n" + noise)
	waitFor(t, "the first lines", func() bool { return lines() >= int64(6*inlineBelow+1) })
	appendLines(noise + strings.Repeat("app[42]: auth failed\n", 3) + noise)
	waitFor(t, "a ban from the session", func() bool { return banned(t, d, "app") == "192.0.2.42" })
}

// TestFileStreamsStartWithDaemon: a jail's stream on a file named without
// wildcards (its compiled filter) exists once the daemon is ready, before
// the file has a line; one on a pattern waits for the files it matches.
func TestFileStreamsStartWithDaemon(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "auth.log")
	if err := os.WriteFile(logPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	exact := testJail("exact", filepath.Join(dir, "acts"))
	exact.LogPaths = []config.LogPath{{Path: logPath}}
	glob := testJail("glob", filepath.Join(dir, "acts"))
	glob.LogPaths = []config.LogPath{{Path: filepath.Join(dir, "other*.log")}}
	d, _ := run(t, &config.Config{Jails: []*config.Jail{exact, glob}}, nil)
	m := d.o.Metrics
	m.mu.Lock()
	_, haveExact := m.sources["files:exact"]
	_, haveGlob := m.sources["files:glob"]
	m.mu.Unlock()
	if !haveExact || haveGlob {
		t.Fatalf("streams at start: exact %v (want true), glob %v (want false)", haveExact, haveGlob)
	}
}

// TestCommandWaitsForStart: a command that comes before the daemon's
// pipeline runs (ping already answers) waits for it instead of failing.
func TestCommandWaitsForStart(t *testing.T) {
	dir := t.TempDir()
	j := testJail("sshd", filepath.Join(dir, "acts"))
	j.LogPaths = []config.LogPath{{Path: filepath.Join(dir, "auth.log")}}
	d, err := New(Options{Config: &config.Config{Jails: []*config.Jail{j}}, DBFile: "none", Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	answer := make(chan error, 1)
	go func() {
		_, err := d.Handle(context.Background(), []string{"status"})
		answer <- err
	}()
	time.Sleep(50 * time.Millisecond) // the command waits before Run starts
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case err := <-answer:
		if err != nil {
			t.Fatalf("status while starting: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("status did not answer")
	}
}

// TestLentFailuresAcrossWorkers: a filter without sessions lends its
// failures from each batch's memory, which later batches reuse; the bans,
// decided batches after each address's first failure, carry that
// failure's fields and the addresses, as written.
func TestLentFailuresAcrossWorkers(t *testing.T) {
	dir := t.TempDir()
	log, acts := filepath.Join(dir, "app.log"), filepath.Join(dir, "acts")
	os.WriteFile(log, nil, 0o644)
	j := testJail("lend", acts)
	j.Filter = config.Filter{UseDNS: "no", MaxLines: 1, FailRegex: []string{`^\s*fail from <HOST> user <F-USER>\S+</F-USER>$`}}
	j.Actions[0].Options[0].Value = "echo ban <ip> user <F-USER> >> " + acts
	j.LogPaths = []config.LogPath{{Path: log}}
	d, _ := run(t, &config.Config{Jails: []*config.Jail{j}}, func(o *Options) { o.FilterWorkers = 2 })
	const n = 30
	var want []string
	for round := range 3 {
		stamp := time.Now().Format("2006-01-02 15:04:05 ")
		noiseLines := 3*inlineBelow/n + 1
		noise := strings.Repeat(stamp+"fail from nowhere at all\n", noiseLines)
		var b strings.Builder
		for i := 1; i <= n; i++ {
			b.WriteString(noise)
			fmt.Fprintf(&b, "%sfail from 192.0.2.%d user u%d-%d\n", stamp, i, i, round)
			if round == 0 {
				want = append(want, fmt.Sprintf("ban 192.0.2.%d user u%d-0", i, i))
			}
		}
		f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Then more batches than the stream has in flight: each batch's
		// memory is reused before the next round.
		f.WriteString(b.String() + strings.Repeat(noise, 40*batchLines/noiseLines))
		f.Close()
		time.Sleep(50 * time.Millisecond) // each round in batches of its own
	}
	waitFor(t, "the bans", func() bool { return len(strings.Fields(banned(t, d, "lend"))) == n })
	var got []string
	waitFor(t, "the ban actions", func() bool {
		data, _ := os.ReadFile(acts)
		got = strings.Split(strings.TrimSpace(string(data)), "\n")
		return len(got) == n
	})
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("ban actions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The bans' ids outlive many more batches.
	read := func() (n uint64) {
		for _, s := range d.Metrics().Sources() {
			n += s.Lines
		}
		return n
	}
	before := read()
	noise := strings.Repeat(time.Now().Format("2006-01-02 15:04:05 ")+"fail from 192.0.2.250 user x\n", 40*batchLines)
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(noise)
	f.Close()
	waitFor(t, "the last lines", func() bool { return read() >= before+40*batchLines })
	ids := strings.Fields(banned(t, d, "lend"))
	slices.Sort(ids)
	var wantIDs []string
	for i := 1; i <= n; i++ {
		wantIDs = append(wantIDs, fmt.Sprintf("192.0.2.%d", i))
	}
	wantIDs = append(wantIDs, "192.0.2.250")
	slices.Sort(wantIDs)
	if !slices.Equal(ids, wantIDs) {
		t.Fatalf("banned %v, want %v", ids, wantIDs)
	}
}
