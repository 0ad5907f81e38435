package daemon

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// health watches the stages: a panic or a batch held longer than
// StallAfter stops the daemon with an error (for systemd to restart it)
// instead of leaving it half-alive.
type health struct {
	d      *Daemon
	mu     sync.Mutex
	stages []*stage
}

// stage is one goroutine's progress: since when it holds its current
// batch (0 when idle).
type stage struct {
	name  string
	since atomic.Int64
}

func newHealth(d *Daemon) *health { return &health{d: d} }

func (h *health) stage(name string) *stage {
	s := &stage{name: name}
	h.mu.Lock()
	h.stages = append(h.stages, s)
	h.mu.Unlock()
	return s
}

func (s *stage) begin() { s.since.Store(time.Now().UnixNano()) }
func (s *stage) end()   { s.since.Store(0) }

// recover turns a panic of the calling goroutine into a daemon failure.
// Deferred at the top of every stage goroutine.
func (h *health) recover(name string) {
	if p := recover(); p != nil {
		h.d.log.Error("stage panicked", "stage", name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		h.d.Fail(fmt.Errorf("%s panicked: %v", name, p))
	}
}

// watch checks the stages until ctx ends. It uses the wall clock: a stall
// is real time lost, whatever the daemon's clock says.
func (h *health) watch(ctx context.Context) {
	after := h.d.o.StallAfter
	t := time.NewTicker(max(after/10, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			h.mu.Lock()
			for _, s := range h.stages {
				if since := s.since.Load(); since != 0 && now.Sub(time.Unix(0, since)) > after {
					h.d.Fail(fmt.Errorf("%s stalled: one batch has taken more than %v", s.name, after))
				}
			}
			h.mu.Unlock()
		}
	}
}
