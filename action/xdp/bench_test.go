package xdp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/f2bx/f2bx/bpf"
)

func benchBans(n int) []Ban {
	bans := make([]Ban, n)
	for i := range bans {
		bans[i] = Ban{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)}), 32)}
	}
	return bans
}

// BenchmarkBanBatch is Blacklist.Ban of 100k new addresses in one call.
func BenchmarkBanBatch(b *testing.B) {
	bans := benchBans(100_000)
	banLoop(b, open(b), bans)
	b.ReportMetric(float64(b.N*len(bans))/b.Elapsed().Seconds()/1e6, "Mbans/s")
}

// BenchmarkBan40 is Blacklist.Ban of 40 new addresses, a flood's batch
// (a jail hands over the bans its last lines decided).
func BenchmarkBan40(b *testing.B) { banLoop(b, open(b), benchBans(40)) }

// BenchmarkBanOne is Blacklist.Ban of one new address: the fixed cost a
// ban pays on its way to the map.
func BenchmarkBanOne(b *testing.B) { banLoop(b, open(b), benchBans(1)) }

// banLoop times banning bans, unbanning them untimed between rounds.
func banLoop(b *testing.B, bl *Blacklist, bans []Ban) {
	ps := make([]netip.Prefix, len(bans))
	for i := range bans {
		ps[i] = bans[i].Prefix
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := bl.Ban("bench", bans, time.Now()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		bl.Unban("bench", ps)
		b.StartTimer()
	}
}

// BenchmarkMapBatchUpdate is the kernel's part alone: BatchUpdate of 100k
// keys into the ban map.
func BenchmarkMapBatchUpdate(b *testing.B) {
	bl := open(b)
	keys := make([][4]byte, 100_000)
	vals := make([]bpf.XdpBanInfo, len(keys))
	for i := range keys {
		keys[i] = [4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := bl.objs.Ban4.BatchUpdate(keys, vals, nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		bl.objs.Ban4.BatchDelete(keys, nil)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*len(keys))/b.Elapsed().Seconds()/1e6, "Mkeys/s")
}
