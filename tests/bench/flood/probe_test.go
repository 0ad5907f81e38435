package main

import (
	"testing"
	"time"
)

// fakeTimer is a clock whose sleeps end late by a fixed lateness.
type fakeTimer struct {
	t     time.Time
	late  time.Duration
	slept []time.Duration
}

func (f *fakeTimer) now() time.Time { return f.t }

func (f *fakeTimer) sleep(d time.Duration) {
	f.slept = append(f.slept, d)
	f.t = f.t.Add(d + f.late)
}

// The pacer asks for the time left less the timer's lateness, so rounds
// start a period apart; work longer than the period starts the next
// round at once, and the schedule goes on from there.
func TestPacerKeepsThePeriod(t *testing.T) {
	f := &fakeTimer{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), late: 100 * time.Microsecond}
	p := newPacer(200*time.Microsecond, f.now, f.sleep)
	if p.late != f.late {
		t.Fatalf("measured lateness %v, want %v", p.late, f.late)
	}
	start := f.t
	var rounds []time.Duration
	work := []time.Duration{30 * time.Microsecond, 30 * time.Microsecond, 500 * time.Microsecond, 30 * time.Microsecond}
	for _, w := range work {
		f.t = f.t.Add(w) // a round's sending
		p.wait()
		rounds = append(rounds, f.t.Sub(start))
	}
	// µs: the third round's work overran (400 → 900), so the fourth
	// began as soon as it ended, and the fifth a period later.
	want := []time.Duration{200, 400, 900, 1100}
	for i := range want {
		if rounds[i] != want[i]*time.Microsecond {
			t.Errorf("wait %d returned at %v, want %v (all %v)", i+1, rounds[i], want[i]*time.Microsecond, rounds)
		}
	}
	// A lateness longer than the time left: no sleep at all.
	q := &pacer{period: 200 * time.Microsecond, late: 300 * time.Microsecond, next: f.t, now: f.now, sleep: f.sleep}
	n := len(f.slept)
	q.wait()
	if len(f.slept) != n {
		t.Errorf("slept %v with more lateness than time left", f.slept[n:])
	}
}
