// Package schedule runs unbans on time: one goroutine waits on a min-heap
// of deadlines and hands every key that is due to a callback, in batches.
package schedule

import (
	"context"
	"sync"
	"time"

	"github.com/f2bx/f2bx/clock"
)

// MaxBatch is the most keys handed to the callback at once.
const MaxBatch = 4096

// Scheduler holds deadlines per key and calls Due when they pass.
type Scheduler[K comparable] struct {
	clock clock.Clock
	due   func([]K)

	mu   sync.Mutex
	heap []item[K]
	pos  map[K]int
	wake chan struct{}
}

type item[K comparable] struct {
	at  int64 // Unix nanoseconds
	key K
}

// New returns a scheduler that calls due, from its own goroutine (see
// Run), with the keys whose deadlines have passed.
func New[K comparable](c clock.Clock, due func([]K)) *Scheduler[K] {
	return &Scheduler[K]{clock: c, due: due, pos: make(map[K]int), wake: make(chan struct{}, 1)}
}

// Set schedules k at t, moving it if it is already scheduled.
func (s *Scheduler[K]) Set(k K, t time.Time) {
	at := t.UnixNano()
	s.mu.Lock()
	if i, ok := s.pos[k]; ok {
		old := s.heap[i].at
		s.heap[i].at = at
		if at < old {
			s.up(i)
		} else {
			s.down(i)
		}
	} else {
		s.heap = append(s.heap, item[K]{at, k})
		s.pos[k] = len(s.heap) - 1
		s.up(len(s.heap) - 1)
	}
	first := s.heap[0].key == k
	s.mu.Unlock()
	if first {
		s.poke()
	}
}

// Remove unschedules k; false if it was not scheduled.
func (s *Scheduler[K]) Remove(k K) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.pos[k]
	if ok {
		s.removeAt(i)
	}
	return ok
}

// When returns k's deadline.
func (s *Scheduler[K]) When(k K) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.pos[k]; ok {
		return time.Unix(0, s.heap[i].at), true
	}
	return time.Time{}, false
}

// Len is the number of scheduled keys.
func (s *Scheduler[K]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.heap)
}

func (s *Scheduler[K]) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run waits for deadlines until ctx ends. Keys are handed to the callback
// at or after their deadline, in deadline order, at most MaxBatch at once.
func (s *Scheduler[K]) Run(ctx context.Context) {
	for {
		batch := s.popDue()
		if len(batch) > 0 {
			s.due(batch)
			continue
		}
		s.mu.Lock()
		var timer clock.Timer
		var fire <-chan time.Time
		if len(s.heap) > 0 {
			timer = s.clock.NewTimer(time.Duration(s.heap[0].at - s.clock.Now().UnixNano()))
			fire = timer.C()
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-s.wake:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

func (s *Scheduler[K]) popDue() []K {
	now := s.clock.Now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	var batch []K
	for len(s.heap) > 0 && s.heap[0].at <= now && len(batch) < MaxBatch {
		batch = append(batch, s.heap[0].key)
		s.removeAt(0)
	}
	return batch
}

func (s *Scheduler[K]) removeAt(i int) {
	last := len(s.heap) - 1
	delete(s.pos, s.heap[i].key)
	if i != last {
		s.heap[i] = s.heap[last]
		s.pos[s.heap[i].key] = i
	}
	s.heap = s.heap[:last]
	if i < last {
		s.down(i)
		s.up(i)
	}
}

func (s *Scheduler[K]) less(i, j int) bool { return s.heap[i].at < s.heap[j].at }

func (s *Scheduler[K]) swap(i, j int) {
	s.heap[i], s.heap[j] = s.heap[j], s.heap[i]
	s.pos[s.heap[i].key] = i
	s.pos[s.heap[j].key] = j
}

func (s *Scheduler[K]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			return
		}
		s.swap(i, p)
		i = p
	}
}

func (s *Scheduler[K]) down(i int) {
	n := len(s.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			return
		}
		s.swap(i, m)
		i = m
	}
}
