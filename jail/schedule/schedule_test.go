package schedule

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/f2bx/f2bx/clock"
)

func start(t *testing.T, c clock.Clock) (*Scheduler[string], chan []string) {
	out := make(chan []string, 100)
	s := New[string](c, func(k []string) { out <- slices.Clone(k) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, out
}

func receive(t *testing.T, out chan []string) []string {
	t.Helper()
	select {
	case b := <-out:
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("no batch")
		return nil
	}
}

func none(t *testing.T, out chan []string) {
	t.Helper()
	select {
	case b := <-out:
		t.Fatalf("unexpected batch %v", b)
	case <-time.After(20 * time.Millisecond):
	}
}

func TestDueInOrderAndOnTime(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	c := clock.NewFake(t0)
	s, out := start(t, c)
	s.Set("b", t0.Add(20*time.Second))
	s.Set("a", t0.Add(10*time.Second))
	s.Set("c", t0.Add(20*time.Second))
	s.Set("d", t0.Add(30*time.Second))
	c.Advance(10*time.Second - time.Millisecond)
	none(t, out)
	c.Advance(time.Millisecond)
	if b := receive(t, out); fmt.Sprint(b) != "[a]" {
		t.Fatalf("at 10s: %v", b)
	}
	// Prolong d, shorten c: moving keys reorders them.
	s.Set("d", t0.Add(15*time.Second))
	s.Set("c", t0.Add(40*time.Second))
	c.Advance(10 * time.Second) // 20s: d (15s) and b (20s)
	if b := receive(t, out); fmt.Sprint(b) != "[d b]" {
		t.Fatalf("at 20s: %v", b)
	}
	if !s.Remove("c") || s.Remove("c") || s.Len() != 0 {
		t.Fatal("remove")
	}
	c.Advance(time.Minute)
	none(t, out)
}

func TestEarlierKeyWakesRun(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	c := clock.NewFake(t0)
	s, out := start(t, c)
	s.Set("late", t0.Add(time.Hour))
	for c.Timers() == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Set("soon", t0.Add(time.Second))
	for c.Timers() != 1 || func() bool { w, _ := s.When("soon"); return w.IsZero() }() {
		time.Sleep(time.Millisecond)
	}
	c.Advance(time.Second)
	if b := receive(t, out); fmt.Sprint(b) != "[soon]" {
		t.Fatalf("%v", b)
	}
}

// TestHeapOrderRandom pops many random deadlines and checks the order.
func TestHeapOrderRandom(t *testing.T) {
	c := clock.NewFake(time.Unix(0, 0))
	var got []string
	s := New[string](c, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	when := map[string]int64{}
	for i := range 5000 {
		k := fmt.Sprint(i % 3000)
		at := rng.Int64N(1e12)
		s.Set(k, time.Unix(0, at))
		when[k] = at
		if i%7 == 0 {
			s.Remove(fmt.Sprint(rng.IntN(3000)))
		}
	}
	for k := range when {
		if _, ok := s.When(k); !ok {
			delete(when, k)
		}
	}
	c.Advance(time.Duration(1e12))
	for b := s.popDue(); len(b) > 0; b = s.popDue() {
		got = append(got, b...)
	}
	if len(got) != len(when) {
		t.Fatalf("%d popped, %d scheduled", len(got), len(when))
	}
	for i := 1; i < len(got); i++ {
		if when[got[i]] < when[got[i-1]] {
			t.Fatalf("out of order at %d", i)
		}
	}
}
