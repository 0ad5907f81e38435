package turns

import (
	"runtime"
	"testing"
)

func TestDuringCountsYields(t *testing.T) {
	if got := During(func() {
		for range 100 {
			runtime.Gosched()
		}
	}); got < 50 {
		t.Errorf("100 yields gave the counter %d turns", got)
	}
	sink := 0
	if got := During(func() {
		for i := range 100_000 {
			sink += i
		}
	}); got > 2 {
		t.Errorf("a loop that never yields gave the counter %d turns", got)
	}
	_ = sink
}
