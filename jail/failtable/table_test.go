package failtable

import (
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"testing"

	"github.com/f2bx/f2bx/filter/fields"
	"github.com/f2bx/f2bx/internal/turns"
)

func TestBanAtMaxRetry(t *testing.T) {
	tb := New[netip.Addr](Config{MaxRetry: 3, FindTime: 600})
	a := netip.MustParseAddr("192.0.2.1")
	for i, want := range []bool{false, false, true, false} {
		e, ban := tb.Add(a, Failure{Time: float64(1000 + i)})
		if ban != want {
			t.Fatalf("failure %d: ban=%v, want %v (entry %+v)", i+1, ban, want, e)
		}
		if ban && (e.Retry != 3 || e.Failures != 3 || e.First != 1000 || e.Last != 1002) {
			t.Fatalf("banned entry %+v", e)
		}
	}
	// The banned entry left the table; the fourth failure started anew.
	if e, ok := tb.Get(a); !ok || e.Retry != 1 {
		t.Fatalf("after ban: %+v %v", e, ok)
	}
}

// TestFindTimeWindow checks fail2ban's window: failures spread over more
// than findtime scale the count to the rate over the last findtime.
func TestFindTimeWindow(t *testing.T) {
	cases := []struct {
		times []float64
		retry int32 // after the last failure (0: banned by it)
		first float64
	}{
		// Within findtime: a plain count.
		{[]float64{0, 100, 200, 300}, 4, 0},
		// Exactly findtime apart: still inside the window.
		{[]float64{0, 600}, 2, 0},
		// One second more: 1 failure over 601 s scaled to 600 s rounds to 1, then +1.
		{[]float64{0, 601}, 2, 1},
		// 3 failures over 0..300, then one at 1200: 3/1200*600 = 1.5 -> 2 (half to even), +1.
		{[]float64{0, 150, 300, 1200}, 3, 600},
		// 2 failures then one at 1800: 2/1800*600 = 0.67 -> 1, +1.
		{[]float64{0, 10, 1800}, 2, 1200},
		// 1 failure then one at 2400: 1/2400*600 = 0.25 -> 0, +1.
		{[]float64{0, 2400}, 1, 1800},
		// 5/1000*600 = 3 exactly, +1 = 4 -> banned at maxretry 4... (set below 5)
		{[]float64{0, 1, 2, 3, 4, 1000}, 4, 400},
		// A failure older than the last one does not move the window.
		{[]float64{500, 100}, 2, 500},
	}
	for _, c := range cases {
		tb := New[string](Config{MaxRetry: 100, FindTime: 600})
		var e Entry
		for _, tm := range c.times {
			e, _ = tb.Add("id", Failure{Time: tm})
		}
		if e.Retry != c.retry || e.First != c.first {
			t.Errorf("%v: retry %d first %v, want %d %v", c.times, e.Retry, e.First, c.retry, c.first)
		}
		if e.Failures != int32(len(c.times)) {
			t.Errorf("%v: failures %d", c.times, e.Failures)
		}
	}
}

func TestObservedOnlyRaisesExisting(t *testing.T) {
	tb := New[string](Config{MaxRetry: 5, FindTime: 600})
	if _, ban := tb.Add("x", Failure{Time: 1, Count: 4, Observed: true}); ban || tb.Len() != 0 {
		t.Fatal("an observed failure created an entry")
	}
	tb.Add("x", Failure{Time: 1})
	e, ban := tb.Add("x", Failure{Time: 1, Count: 4, Observed: true})
	if !ban || e.Retry != 5 {
		t.Fatalf("observed +4 on 1: %+v ban=%v", e, ban)
	}
}

func TestMatchesKeepLast(t *testing.T) {
	tb := New[string](Config{MaxRetry: 10, FindTime: 600, MaxMatches: 2})
	tb.Add("x", Failure{Time: 1, Matches: []string{"a"}, Fields: fields.Of(map[string]any{"user": "root"})})
	tb.Add("x", Failure{Time: 2, Matches: []string{"b"}, Fields: fields.Of(map[string]any{"user": "admin"})})
	e, _ := tb.Add("x", Failure{Time: 3, Matches: []string{"c"}})
	if fmt.Sprint(e.Data.Matches) != "[b c]" || e.Data.Fields.Str("user") != "root" {
		t.Fatalf("data %+v", e.Data)
	}
	tb.SetRules(10, 600, 0)
	e, _ = tb.Add("x", Failure{Time: 4, Matches: []string{"d"}})
	if len(e.Data.Matches) != 0 {
		t.Fatalf("maxmatches 0 kept %v", e.Data.Matches)
	}
}

func TestCapEvictsLeastRecent(t *testing.T) {
	tb := New[int](Config{MaxRetry: 100, FindTime: 600, Cap: 4, Shards: 1})
	for i := range 4 {
		tb.Add(i, Failure{Time: float64(i)})
	}
	tb.Add(0, Failure{Time: 10}) // 0 is now the most recent; 1 the oldest
	tb.Add(99, Failure{Time: 11})
	if _, ok := tb.Get(1); ok {
		t.Fatal("the least recently failed id was not evicted")
	}
	for _, k := range []int{0, 2, 3, 99} {
		if _, ok := tb.Get(k); !ok {
			t.Fatalf("id %d evicted", k)
		}
	}
	if s := tb.Stats(); s.Evicted != 1 || s.Tracked != 4 {
		t.Fatalf("stats %+v", s)
	}
}

// TestFloodStaysBounded: a flood of distinct addresses never grows the
// table beyond its cap.
func TestFloodStaysBounded(t *testing.T) {
	const capN = 1000
	tb := New[netip.Addr](Config{MaxRetry: 3, FindTime: 600, Cap: capN, Shards: 8})
	for i := range 100000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		tb.Add(a, Failure{Time: float64(i)})
	}
	s := tb.Stats()
	if s.Tracked > capN || s.Evicted != uint64(100000-s.Tracked) {
		t.Fatalf("stats %+v", s)
	}
}

func TestExpire(t *testing.T) {
	tb := New[string](Config{MaxRetry: 10, FindTime: 600})
	tb.Add("old", Failure{Time: 100})
	tb.Add("edge", Failure{Time: 400})
	tb.Add("new", Failure{Time: 401})
	tb.Add("late", Failure{Time: 50}) // most recent in the list, oldest in time
	if n := tb.Expire(1000); n != 3 {
		t.Fatalf("expired %d, want 3 (last <= now-findtime)", n)
	}
	if _, ok := tb.Get("new"); !ok || tb.Len() != 1 {
		t.Fatal("wrong entries expired")
	}
}

func TestConcurrentAdds(t *testing.T) {
	tb := New[netip.Addr](Config{MaxRetry: 1 << 30, FindTime: 1e9})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10000 {
				tb.Add(netip.AddrFrom4([4]byte{10, 0, byte(i % 50), byte(g)}), Failure{Time: float64(i)})
			}
		}()
	}
	wg.Wait()
	total := 0
	tb.Range(func(_ netip.Addr, e Entry) bool { total += int(e.Failures); return true })
	if total != 40000 || tb.Len() != 200 {
		t.Fatalf("total %d len %d", total, tb.Len())
	}
}

// TestAgainstMapModel runs random adds, deletes, expiries and evictions
// and checks the table's index against a plain map.
func TestAgainstMapModel(t *testing.T) {
	tb := New[int](Config{MaxRetry: 1 << 30, FindTime: 50, Cap: 64, Shards: 2})
	model := map[int]float64{} // id -> last time
	rng := uint64(1)
	next := func(n int) int { rng = rng*6364136223846793005 + 1442695040888963407; return int(rng>>33) % n }
	for step := range 200000 {
		k := next(300)
		now := float64(step) / 10
		switch next(10) {
		case 0:
			tb.Delete(k)
			delete(model, k)
		case 1:
			tb.Expire(now)
			for id, last := range model {
				if last <= now-50 {
					delete(model, id)
				}
			}
		default:
			tb.Add(k, Failure{Time: now})
			model[k] = now
		}
		if step%1000 == 0 || tb.Len() != len(model) {
			// Evictions make the table a subset of the model.
			n := 0
			tb.Range(func(id int, e Entry) bool {
				if model[id] != e.Last {
					t.Fatalf("step %d: id %d last %v, model %v", step, id, e.Last, model[id])
				}
				n++
				return true
			})
			for id := range model {
				if _, ok := tb.Get(id); !ok {
					delete(model, id) // evicted
				}
			}
			if n != len(model) || n != tb.Len() {
				t.Fatalf("step %d: table %d/%d, model %d", step, n, tb.Len(), len(model))
			}
		}
	}
}

func TestChunkOf(t *testing.T) {
	c, off := 0, 0
	for i := range int32(20000) {
		gc, goff := chunkOf(i)
		if gc != c || goff != off {
			t.Fatalf("slot %d: chunk %d+%d, want %d+%d", i, gc, goff, c, off)
		}
		if off++; off == chunkSize(c) {
			c, off = c+1, 0
		}
	}
}

// TestAddBatchEqualsAdd: a batch counts exactly as the same failures
// added one by one.
func TestAddBatchEqualsAdd(t *testing.T) {
	one := New[int](Config{MaxRetry: 4, FindTime: 60, Shards: 8})
	bat := New[int](Config{MaxRetry: 4, FindTime: 60, Shards: 8})
	rng := uint64(3)
	next := func(n int) int { rng = rng*6364136223846793005 + 1442695040888963407; return int(rng>>33) % n }
	var wantBans, gotBans []string
	for round := range 200 {
		keys := make([]int, 1+next(300))
		fs := make([]Failure, len(keys))
		for i := range keys {
			keys[i] = next(50)
			fs[i] = Failure{Time: float64(round*10 + next(30))}
		}
		for i, k := range keys {
			if e, ban := one.Add(k, fs[i]); ban {
				wantBans = append(wantBans, fmt.Sprint(round, i, k, e))
			}
		}
		var bans []string
		bat.AddBatch(keys, fs, func(i int, e Entry) { bans = append(bans, fmt.Sprint(round, i, keys[i], e)) })
		sort.Strings(bans) // reported shard by shard
		gotBans = append(gotBans, bans...)
	}
	sort.Strings(wantBans)
	sort.Strings(gotBans)
	if fmt.Sprint(wantBans) != fmt.Sprint(gotBans) || len(wantBans) == 0 {
		t.Fatalf("%d bans one by one, %d in batches", len(wantBans), len(gotBans))
	}
	one.Range(func(k int, e Entry) bool {
		if g, ok := bat.Get(k); !ok || g != e {
			t.Fatalf("key %d: %+v, batch %+v", k, e, g)
		}
		return true
	})
}

// Expiring a large table lets other goroutines run between its shards:
// on one processor, a goroutine that counts while Expire runs gets to
// count about once per shard.
func TestExpireYields(t *testing.T) {
	tb := New[int](Config{MaxRetry: 10, FindTime: 600, Shards: 64})
	for i := range 64 * 100 {
		tb.Add(i, Failure{Time: float64(i % 2 * 1000)})
	}
	expired := 0
	if got := turns.During(func() { expired = tb.Expire(1000) }); got < 32 {
		t.Errorf("expiring 64 shards let another goroutine run %d times", got)
	}
	if expired != 64*50 {
		t.Fatalf("expired %d, want %d", expired, 64*50)
	}
}
