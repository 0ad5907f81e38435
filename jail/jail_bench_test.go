package jail

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/f2bx/f2bx/clock"
	"github.com/f2bx/f2bx/filter/fields"
	"github.com/f2bx/f2bx/jail/ignore"
	"github.com/f2bx/f2bx/jail/schedule"
	"github.com/f2bx/f2bx/store"
)

type discard struct{ bans, unbans atomic.Int64 }

func (d *discard) Ban(_ context.Context, b []*Ticket) error { d.bans.Add(int64(len(b))); return nil }
func (d *discard) Unban(_ context.Context, b []*Ticket) error {
	d.unbans.Add(int64(len(b)))
	return nil
}

func benchJail(b *testing.B, acts Actions) (*Jail, context.Context) {
	c := clock.Real{}
	l, err := ignore.New(context.Background(), ignore.Config{IgnoreIP: []string{"127.0.0.1/8", "::1", "10.0.0.0/8"}}, ignore.Deps{Now: time.Now})
	if err != nil {
		b.Fatal(err)
	}
	var j *Jail
	sched := schedule.New[Key](c, func(keys []Key) {})
	j, err = New(Config{Name: "sshd", MaxRetry: 5, FindTime: 10 * time.Minute, BanTime: time.Hour, MaxMatches: 5},
		Deps{Clock: c, Actions: acts, Scheduler: sched, History: NewHistory(nil), Ignore: l})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	go j.Run(ctx)
	go sched.Run(ctx)
	return j, ctx
}

// BenchmarkJailAdd254 sends failures from 254 addresses through the
// jail: parse, ignore list, table, bans and re-bans of banned addresses.
func BenchmarkJailAdd254(b *testing.B) { benchmarkJailAdd(b, nil, nil) }

// BenchmarkJailAddMatches254 is BenchmarkJailAdd254 with failures that
// carry fields and their matched line, as a filter's do: the table keeps
// the last maxmatches lines of each address.
func BenchmarkJailAddMatches254(b *testing.B) {
	fs := fields.New(2)
	fs.SetText("user", "admin")
	benchmarkJailAdd(b, fs, []string{"Failed password for admin from 198.51.100.1 port 22 ssh2"})
}

func benchmarkJailAdd(b *testing.B, fs *fields.Set, matches []string) {
	j, ctx := benchJail(b, &discard{})
	ids := make([]string, 254)
	for i := range ids {
		ids[i] = fmt.Sprintf("198.51.100.%d", i+1)
	}
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	var worker atomic.Int32
	b.RunParallel(func(pb *testing.PB) {
		batch := make([]Failure, 512)
		// Workers handle different lines: they are not in lockstep.
		i := int(worker.Add(1)) * 97
		for pb.Next() {
			batch[i%512] = Failure{ID: ids[i%254], Time: now, Fields: fs, Matches: matches}
			i++
			if i%512 == 0 {
				j.Add(ctx, batch)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "failures/s")
}

// BenchmarkRestore100k reads 100,000 bans from the database and restores
// them into a jail (ban list, scheduler, actions).
func BenchmarkRestore100k(b *testing.B) {
	st, err := store.Open(filepath.Join(b.TempDir(), "f2bx.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now().Unix()
	var bans []store.Ban
	for i := range 100000 {
		a := netip.AddrFrom4([4]byte{172, 16 + byte(i>>16), byte(i >> 8), byte(i)})
		bans = append(bans, store.Ban{Jail: "sshd", ID: a.String(), Time: now - 60, BanTime: 3600, Count: 1,
			Data: map[string]any{"failures": 5, "matches": []string{"Failed password for root from " + a.String() + " port 22 ssh2"}}})
	}
	if err := st.AddBans(context.Background(), bans); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		acts := &discard{}
		j, ctx := benchJail(b, acts)
		start := time.Now()
		cur, err := st.CurrentBans(ctx, "sshd", float64(time.Now().Unix()))
		if err != nil {
			b.Fatal(err)
		}
		if n := j.Restore(ctx, cur); n != 100000 {
			b.Fatalf("restored %d", n)
		}
		for acts.bans.Load() < 100000 {
			time.Sleep(time.Millisecond)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/100k-bans")
	}
}
