package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/f2bx/f2bx/internal/turns"
)

func open(t testing.TB) *Store {
	s, err := Open(filepath.Join(t.TempDir(), "sub", "f2bx.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestBansRoundTrip(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	now := 1_700_000_000.0
	bans := []Ban{
		{Jail: "sshd", ID: "192.0.2.1", Time: int64(now) - 100, BanTime: 600, Count: 1, Data: map[string]any{"matches": []any{"line 1"}, "failures": 5.0}},
		{Jail: "sshd", ID: "192.0.2.2", Time: int64(now) - 700, BanTime: 600, Count: 1},  // ended
		{Jail: "sshd", ID: "2001:db8::1", Time: int64(now) - 1e6, BanTime: -1, Count: 3}, // permanent
		{Jail: "nginx", ID: "192.0.2.1", Time: int64(now) - 10, BanTime: 3600, Count: 2},
	}
	if err := s.AddBans(ctx, bans); err != nil {
		t.Fatal(err)
	}
	cur, err := s.CurrentBans(ctx, "sshd", now)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(cur)) != "[192.0.2.1 2001:db8::1]" || cur[0].Data["matches"].([]any)[0] != "line 1" {
		t.Fatalf("current sshd bans %+v", cur)
	}
	all, _ := s.CurrentBans(ctx, "", now)
	if len(all) != 3 {
		t.Fatalf("current bans of every jail: %+v", all)
	}
	// A second ban of the same id replaces its bips row and adds history.
	s.AddBans(ctx, []Ban{{Jail: "sshd", ID: "192.0.2.2", Time: int64(now), BanTime: 1200, Count: 2}})
	h, _ := s.History(ctx)
	if len(h) != 4 {
		t.Fatalf("history %+v", h)
	}
	if err := s.DelBans(ctx, "sshd", []string{"192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	cur, _ = s.CurrentBans(ctx, "sshd", now)
	if fmt.Sprint(ids(cur)) != "[192.0.2.2 2001:db8::1]" {
		t.Fatalf("after unban %v", ids(cur))
	}
	// Purge: old history rows go; the permanent ban stays.
	if err := s.Purge(ctx, now+10*86400, 86400); err != nil {
		t.Fatal(err)
	}
	h, _ = s.History(ctx)
	if fmt.Sprint(ids(h)) != "[2001:db8::1]" {
		t.Fatalf("after purge %v", ids(h))
	}
}

func ids(bs []Ban) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.ID)
	}
	return out
}

func TestPositions(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if _, ok, err := s.Position(ctx, "/var/log/auth.log"); ok || err != nil {
		t.Fatal("position of an unknown file")
	}
	s.SavePositions(ctx, 1, []Position{{Path: "/var/log/auth.log", Inode: 1 << 40, Offset: 12345, FirstLine: "abc"}})
	p, ok, err := s.Position(ctx, "/var/log/auth.log")
	if !ok || err != nil || p.Inode != 1<<40 || p.Offset != 12345 || p.FirstLine != "abc" {
		t.Fatalf("%+v %v %v", p, ok, err)
	}
}

func TestWriterKeepsOrderAndEverything(t *testing.T) {
	s := open(t)
	var errs []error
	w := NewWriter(s, WriterConfig{Every: time.Hour, OnError: func(err error) { errs = append(errs, err) }})
	for i := range 20000 {
		w.AddBan(Ban{Jail: "sshd", ID: fmt.Sprintf("10.0.%d.%d", i/256, i%256), Time: 100, BanTime: -1, Count: 1})
	}
	w.DelBans("sshd", []string{"10.0.0.7"})
	w.AddBan(Ban{Jail: "sshd", ID: "10.0.0.8", Time: 200, BanTime: -1, Count: 2})
	w.Close()
	cur, _ := s.CurrentBans(context.Background(), "sshd", 0)
	if len(cur) != 19999 || len(errs) != 0 {
		t.Fatalf("%d bans, errors %v", len(cur), errs)
	}
	for _, b := range cur {
		if b.ID == "10.0.0.8" && b.Count != 2 {
			t.Fatal("later ban lost its order")
		}
	}
}

// The writer flushes queued writes on its own, Every after the first one
// was queued, each time writes wait (its timer runs only then).
func TestWriterFlushesOnItsOwn(t *testing.T) {
	s := open(t)
	w := NewWriter(s, WriterConfig{Every: 10 * time.Millisecond})
	defer w.Close()
	for round := range 3 {
		id := fmt.Sprintf("10.0.0.%d", round+1)
		w.AddBan(Ban{Jail: "sshd", ID: id, Time: 100, BanTime: -1, Count: 1})
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			cur, err := s.CurrentBans(context.Background(), "sshd", 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(cur) == round+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %d bans written, want %d", round, len(cur), round+1)
			}
		}
	}
}

func TestReopenKeepsBans(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f2bx.db")
	s, _ := Open(path)
	s.AddBans(context.Background(), []Ban{{Jail: "sshd", ID: "192.0.2.1", Time: 100, BanTime: -1, Count: 1}})
	s.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cur, _ := s.CurrentBans(context.Background(), "", 1e9)
	if len(cur) != 1 {
		t.Fatalf("%+v", cur)
	}
}

// BenchmarkRestore100k reads back 100,000 current bans.
func BenchmarkRestore100k(b *testing.B) {
	s := open(b)
	var bans []Ban
	for i := range 100000 {
		bans = append(bans, Ban{Jail: "sshd", ID: fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255), Time: 1_700_000_000, BanTime: 86400, Count: 1,
			Data: map[string]any{"failures": 5, "matches": []string{"Failed password for root from 10.0.0.1 port 22 ssh2"}}})
	}
	start := time.Now()
	if err := s.AddBans(context.Background(), bans); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(bans))/time.Since(start).Seconds(), "bans-written/s")
	b.ResetTimer()
	for range b.N {
		cur, err := s.CurrentBans(context.Background(), "sshd", 1_700_000_000)
		if err != nil || len(cur) != 100000 {
			b.Fatal(len(cur), err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/restore")
}

func TestWriterPurgesAtStart(t *testing.T) {
	s := open(t)
	now := time.Unix(1_700_000_000, 0)
	s.AddBans(context.Background(), []Ban{
		{Jail: "sshd", ID: "192.0.2.1", Time: now.Unix() - 10*86400, BanTime: 600, Count: 1},
		{Jail: "sshd", ID: "192.0.2.2", Time: now.Unix() - 60, BanTime: 600, Count: 1},
	})
	w := NewWriter(s, WriterConfig{PurgeAge: 24 * time.Hour, Now: func() time.Time { return now }})
	w.Flush()
	w.Close()
	h, _ := s.History(context.Background())
	if fmt.Sprint(ids(h)) != "[192.0.2.2]" {
		t.Fatalf("after purge %v", ids(h))
	}
}

// Writing many bans lets other goroutines run between them: on one
// processor, a goroutine that counts while AddBans and DelBans run gets
// to count about once per ban, not only when the runtime preempts the
// writer (every 10 ms).
func TestLongWritesYield(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	var bans []Ban
	var ids []string
	for i := range 200 {
		id := fmt.Sprintf("192.0.2.%d", i)
		bans = append(bans, Ban{Jail: "flood", ID: id, Time: 1_700_000_000, BanTime: 30, Count: 1, Data: map[string]any{"failures": 3}})
		ids = append(ids, id)
	}
	for _, w := range []struct {
		name string
		do   func() error
	}{
		{"AddBans", func() error { return s.AddBans(ctx, bans) }},
		{"DelBans", func() error { return s.DelBans(ctx, "flood", ids) }},
	} {
		var err error
		if got := turns.During(func() { err = w.do() }); got < int64(len(bans))/2 {
			t.Errorf("%s of %d bans let another goroutine run %d times", w.name, len(bans), got)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
