package failtable

import (
	"fmt"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
)

// attackers are the 254 addresses of one /24.
func attackers() (a [254]netip.Addr) {
	for i := range a {
		a[i] = netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)})
	}
	return a
}

// BenchmarkAdd254 counts failures from 254 addresses (one /24, the
// thesis's attack): all goroutines hit the same few shards' entries.
func BenchmarkAdd254(b *testing.B) {
	tb := New[netip.Addr](Config{MaxRetry: 1 << 30, FindTime: 600})
	addrs := attackers()
	b.ReportAllocs()
	b.ResetTimer()
	var worker atomic.Int32
	b.RunParallel(func(pb *testing.PB) {
		// Workers handle different lines: they are not in lockstep.
		i := int(worker.Add(1)) * 97
		for pb.Next() {
			tb.Add(addrs[i%254], Failure{Time: float64(i)})
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "failures/s")
}

// BenchmarkAddDistinct counts failures from 1M distinct addresses.
func BenchmarkAddDistinct(b *testing.B) {
	tb := New[netip.Addr](Config{MaxRetry: 1 << 30, FindTime: 600})
	const n = 1 << 20
	addrs := make([]netip.Addr, n)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			tb.Add(addrs[(i*7919)%n], Failure{Time: float64(i)})
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "failures/s")
}

// BenchmarkBytesPerAddress reports the heap the table holds per tracked
// address, for 1M addresses (IPv4, 5% IPv6), without matched lines.
func BenchmarkBytesPerAddress(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				tb := New[netip.Addr](Config{MaxRetry: 5, FindTime: 600, Cap: n})
				for i := range n {
					var a netip.Addr
					if i%20 == 0 {
						a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 12: byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
					} else {
						a = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
					}
					tb.Add(a, Failure{Time: float64(i)})
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(tb.Len()), "bytes/addr")
				runtime.KeepAlive(tb)
			}
		})
	}
}

// BenchmarkAddBatch254 is BenchmarkAdd254 through AddBatch, 512 failures
// a batch (a block of log lines).
func BenchmarkAddBatch254(b *testing.B) {
	tb := New[netip.Addr](Config{MaxRetry: 1 << 30, FindTime: 600})
	addrs := attackers()
	b.ReportAllocs()
	b.ResetTimer()
	var worker atomic.Int32
	b.RunParallel(func(pb *testing.PB) {
		i := int(worker.Add(1)) * 97
		keys := make([]netip.Addr, 0, 512)
		fs := make([]Failure, 0, 512)
		for pb.Next() {
			keys = append(keys, addrs[i%254])
			fs = append(fs, Failure{Time: float64(i)})
			i++
			if len(keys) == 512 {
				tb.AddBatch(keys, fs, func(int, Entry) {})
				keys, fs = keys[:0], fs[:0]
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "failures/s")
}
