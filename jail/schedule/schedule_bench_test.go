package schedule

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/f2bx/f2bx/clock"
)

// BenchmarkSet schedules 1M addresses.
func BenchmarkSet(b *testing.B) {
	s := New[netip.Addr](clock.Real{}, func([]netip.Addr) {})
	now := time.Now()
	b.ReportAllocs()
	for i := range b.N {
		s.Set(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), now.Add(time.Duration(i%1000)*time.Hour))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sets/s")
}

// BenchmarkPrecision holds 1M bans and lets 20,000 of them expire over
// 2 s; it reports how late the unbans came (p50, p99, max).
func BenchmarkPrecision(b *testing.B) {
	for range b.N {
		var late []time.Duration
		want := map[netip.Addr]time.Time{}
		done := make(chan struct{})
		const expiring = 20000
		s := New[netip.Addr](clock.Real{}, func(keys []netip.Addr) {
			now := time.Now()
			for _, k := range keys {
				late = append(late, now.Sub(want[k]))
			}
			if len(late) == expiring {
				close(done)
			}
		})
		far := time.Now().Add(time.Hour)
		for i := range 1_000_000 - expiring {
			a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
			s.Set(a, far.Add(time.Duration(i)*time.Millisecond))
		}
		ctx, cancel := context.WithCancel(context.Background())
		go s.Run(ctx)
		start := time.Now().Add(100 * time.Millisecond)
		for i := range expiring {
			a := netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)})
			at := start.Add(time.Duration(i) * 100 * time.Microsecond)
			want[a] = at
			s.Set(a, at)
		}
		if time.Now().After(start) {
			b.Fatal("setup outran the first deadline")
		}
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Fatal("unbans did not come")
		}
		cancel()
		slices.Sort(late)
		b.ReportMetric(float64(late[len(late)/2].Microseconds()), "p50-late-µs")
		b.ReportMetric(float64(late[len(late)*99/100].Microseconds()), "p99-late-µs")
		b.ReportMetric(float64(late[len(late)-1].Microseconds()), "max-late-µs")
	}
}
