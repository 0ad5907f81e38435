package gctune

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	tests := []struct {
		live, headroom uint64
		want           int
	}{
		{0, 64 << 20, MaxPercent},
		{4 << 20, 64 << 20, MaxPercent},  // 1600 % would be needed: capped
		{16 << 20, 64 << 20, 400},        // 64 MiB over 16 MiB
		{32 << 20, 64 << 20, 200},        //
		{64 << 20, 64 << 20, MinPercent}, // Go's default from here on
		{1 << 30, 64 << 20, MinPercent},
	}
	for _, tc := range tests {
		if got := Percent(tc.live, tc.headroom); got != tc.want {
			t.Errorf("Percent(%d, %d) = %d, want %d", tc.live, tc.headroom, got, tc.want)
		}
	}
}

// Tune follows the live heap from one collection to the next.
func TestTunerFollowsLiveHeap(t *testing.T) {
	tu := smallHeapTuner(t)
	small := tu.Percent()
	if small != MaxPercent {
		t.Fatalf("a test's small live heap got %d %%, want %d", small, MaxPercent)
	}
	keep := make([]byte, 48<<20) // the live heap grows past 48 MiB
	for i := range keep {
		keep[i] = byte(i)
	}
	want := Percent(48<<20, 64<<20)
	collectUntil(func() bool { return tu.Percent() <= want })
	if got := tu.Percent(); got > want || got >= small {
		t.Errorf("with 48 MiB live: %d %%, want at most %d (was %d)", got, want, small)
	}
	if got := debug.SetGCPercent(100); got != tu.Percent() {
		t.Errorf("collector's percent %d, tuner says %d", got, tu.Percent())
	}
	debug.SetGCPercent(tu.Percent())
	runtime.KeepAlive(keep)
	tu.Stop()
	if got := debug.SetGCPercent(100); got != MinPercent {
		t.Errorf("after Stop: %d %%, want Go's default %d", got, MinPercent)
	}
}

func TestStartLeavesGOGCAlone(t *testing.T) {
	t.Setenv("GOGC", "150")
	if tu := Start(0); tu != nil {
		tu.Stop()
		t.Fatal("Start tuned with GOGC set")
	}
}

// smallHeapTuner starts a tuner with 64 MiB of headroom (stopped, and Go's
// default restored, at the test's end) and collects until it has seen the
// test's small heap; it skips the test when GOGC is set.
func smallHeapTuner(t *testing.T) *Tuner {
	t.Helper()
	if _, set := os.LookupEnv("GOGC"); set {
		t.Skip("GOGC is set: Start leaves the collector alone")
	}
	old := debug.SetGCPercent(100)
	tu := Start(64 << 20)
	t.Cleanup(func() { tu.Stop(); debug.SetGCPercent(old) })
	// (The heap an earlier test left may take a collection to go.)
	collectUntil(func() bool { return tu.Percent() == MaxPercent })
	return tu
}

// collectUntil collects until cond holds, 10 s at most (the tuner runs on
// the runtime's cleanup goroutine, after the collection).
func collectUntil(cond func() bool) {
	for deadline := time.Now().Add(10 * time.Second); !cond() && time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

// Warm leaves the heap's room up to the goal resident and free.
func TestWarm(t *testing.T) {
	tu := smallHeapTuner(t)
	debug.FreeOSMemory() // what earlier tests left goes back to the system
	goal, used, free := heapRoom()
	if used+free >= goal/10*8 {
		t.Fatalf("resident heap %d MiB before warming, goal %d MiB", (used+free)>>20, goal>>20)
	}
	resident := tu.Warm()
	if resident < goal/10*8 {
		t.Errorf("resident heap %d MiB after warming, want 80 %% of the goal, %d MiB", resident>>20, goal>>20)
	}
	if _, used, free = heapRoom(); used+free < resident/10*9 {
		t.Errorf("resident heap %d MiB, %d MiB right after warming", (used+free)>>20, resident>>20)
	}
	if (*Tuner)(nil).Warm() != 0 {
		t.Error("a nil tuner warmed")
	}
}
