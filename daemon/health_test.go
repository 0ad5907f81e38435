package daemon

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func healthDaemon(stallAfter time.Duration) *Daemon {
	return &Daemon{o: Options{StallAfter: stallAfter}, log: slog.New(slog.DiscardHandler), fatal: make(chan error, 16)}
}

// A stage holding one batch longer than StallAfter fails the daemon; one
// that is busy but finishes its batches in time does not.
func TestHealthStall(t *testing.T) {
	d := healthDaemon(500 * time.Millisecond)
	h := newHealth(d)
	busy, stuck := h.stage("filter busy"), h.stage("filter stuck")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.watch(ctx)
	stop := time.After(5 * time.Second)
	go func() {
		for ctx.Err() == nil {
			busy.begin()
			time.Sleep(5 * time.Millisecond)
			busy.end()
		}
	}()
	time.Sleep(time.Second)
	select {
	case err := <-d.fatal:
		t.Fatalf("a stage that keeps up was reported: %v", err)
	default:
	}
	stuck.begin()
	select {
	case err := <-d.fatal:
		if !strings.Contains(err.Error(), "filter stuck stalled") {
			t.Fatalf("error: %v", err)
		}
	case <-stop:
		t.Fatal("a stuck stage was not reported")
	}
}

// A panic in a stage goroutine fails the daemon with the stage's name.
func TestHealthPanic(t *testing.T) {
	d := healthDaemon(time.Minute)
	h := newHealth(d)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer h.recover("jail sshd")
		var m map[string]int
		m["x"]++ // a nil map write panics
	}()
	<-done
	select {
	case err := <-d.fatal:
		if !strings.Contains(err.Error(), "jail sshd panicked") {
			t.Fatalf("error: %v", err)
		}
	default:
		t.Fatal("the panic was not reported")
	}
}
