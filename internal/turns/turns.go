// Package turns measures how often a function lets other goroutines run,
// for tests of code that must not hold a processor for long.
package turns

import (
	"runtime"
	"sync/atomic"
)

// During runs f on one processor (GOMAXPROCS 1, restored after) while
// another goroutine counts its turns, yielding after each, and returns
// the turns it got while f ran: about how many times f yielded. A
// function that never yields gets none, unless it runs long enough for
// the runtime to preempt it (every 10 ms).
func During(f func()) int64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var stop atomic.Bool
	var n atomic.Int64
	started := make(chan struct{})
	go func() {
		close(started)
		for !stop.Load() {
			n.Add(1)
			runtime.Gosched()
		}
	}()
	defer stop.Store(true)
	<-started
	before := n.Load()
	f()
	return n.Load() - before
}
