package store

import (
	"context"
	"sync"
	"time"
)

// Writer batches writes off the hot path: bans, unbans and positions are
// queued and written together, in one transaction per flush. The queue is
// bounded: when the database cannot keep up, Add blocks (backpressure)
// rather than grow without bound.
type Writer struct {
	st     *Store
	cfg    WriterConfig
	ops    chan op
	done   chan struct{}
	flushc chan chan struct{}
	once   sync.Once
}

type op struct {
	ban   *Ban
	unban *unban
	pos   *Position
}

type unban struct {
	jail string
	ids  []string
}

// WriterQueue is the writer's queue length.
const WriterQueue = 65536

// WriterConfig sets how a Writer batches and purges.
type WriterConfig struct {
	// Every is how often queued writes are flushed (and whenever 10,000
	// are waiting).
	Every time.Duration
	// PurgeAge is fail2ban's dbpurgeage; 0 disables purging. Old rows are
	// purged every PurgeEvery (default one hour), and once at start.
	PurgeAge, PurgeEvery time.Duration
	// Now is the clock for purging.
	Now func() time.Time
	// OnError receives write errors.
	OnError func(error)
}

// NewWriter starts a writer.
func NewWriter(st *Store, c WriterConfig) *Writer {
	if c.Every <= 0 {
		c.Every = 100 * time.Millisecond
	}
	if c.PurgeEvery <= 0 {
		c.PurgeEvery = time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	w := &Writer{st: st, cfg: c, ops: make(chan op, WriterQueue),
		done: make(chan struct{}), flushc: make(chan chan struct{})}
	go w.run()
	return w
}

// AddBan queues a ban.
func (w *Writer) AddBan(b Ban) { w.ops <- op{ban: &b} }

// DelBans queues the removal of a jail's bans (all of them for no ids).
func (w *Writer) DelBans(jail string, ids []string) {
	w.ops <- op{unban: &unban{jail, append([]string(nil), ids...)}}
}

// SavePosition queues a log position.
func (w *Writer) SavePosition(p Position) { w.ops <- op{pos: &p} }

// Flush waits until everything queued so far is written.
func (w *Writer) Flush() {
	c := make(chan struct{})
	w.flushc <- c
	<-c
}

// Close writes what is queued and stops the writer.
func (w *Writer) Close() {
	w.once.Do(func() {
		close(w.ops)
		<-w.done
	})
}

func (w *Writer) run() {
	defer close(w.done)
	// The flush timer runs only while writes wait: an idle daemon's
	// writer does not wake.
	tick := time.NewTimer(w.cfg.Every)
	tick.Stop()
	defer tick.Stop()
	var due <-chan time.Time
	purge := time.NewTicker(w.cfg.PurgeEvery)
	defer purge.Stop()
	doPurge := func() {
		if w.cfg.PurgeAge > 0 {
			now := float64(w.cfg.Now().Unix())
			w.report(w.st.Purge(context.Background(), now, w.cfg.PurgeAge.Seconds()))
		}
	}
	doPurge()
	var bans []Ban
	var pos []Position
	write := func() {
		ctx := context.Background()
		if len(bans) > 0 {
			w.report(w.st.AddBans(ctx, bans))
			bans = bans[:0]
		}
		if len(pos) > 0 {
			w.report(w.st.SavePositions(ctx, time.Now().Unix(), pos))
			pos = pos[:0]
		}
	}
	apply := func(o op) {
		switch {
		case o.ban != nil:
			bans = append(bans, *o.ban)
		case o.pos != nil:
			pos = append(pos, *o.pos)
		case o.unban != nil:
			// Keep the order: bans queued before an unban are written first.
			write()
			w.report(w.st.DelBans(context.Background(), o.unban.jail, o.unban.ids))
		}
		if len(bans)+len(pos) >= 10000 {
			write()
		}
		if due == nil && len(bans)+len(pos) > 0 {
			tick.Reset(w.cfg.Every)
			due = tick.C
		}
	}
	for {
		select {
		case o, ok := <-w.ops:
			if !ok {
				write()
				return
			}
			apply(o)
		case <-due:
			due = nil
			write()
		case <-purge.C:
			write()
			doPurge()
		case c := <-w.flushc:
			for drained := false; !drained; {
				select {
				case o, ok := <-w.ops:
					if !ok {
						drained = true
						break
					}
					apply(o)
				default:
					drained = true
				}
			}
			write()
			close(c)
		}
	}
}

func (w *Writer) report(err error) {
	if err != nil && w.cfg.OnError != nil {
		w.cfg.OnError(err)
	}
}
