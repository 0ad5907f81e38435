package jail

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/cpu"
)

// banList holds a jail's current bans in shards, one lock each: failures
// of banned addresses (log lines still arriving) check it on the hot path.
type banList struct {
	seed   maphash.Seed
	shards [32]banShard
	total  atomic.Int64
}

type banShard struct {
	mu sync.Mutex
	m  map[string]*Ticket
	_  cpu.CacheLinePad
}

func newBanList() *banList {
	b := &banList{seed: maphash.MakeSeed()}
	for i := range b.shards {
		b.shards[i].m = map[string]*Ticket{}
	}
	return b
}

// lock returns id's shard, locked.
func (b *banList) lock(id string) *banShard {
	s := &b.shards[maphash.String(b.seed, id)%uint64(len(b.shards))]
	s.mu.Lock()
	return s
}

// each calls fn on every shard, locked.
func (b *banList) each(fn func(m map[string]*Ticket)) {
	for i := range b.shards {
		s := &b.shards[i]
		s.mu.Lock()
		fn(s.m)
		s.mu.Unlock()
	}
}

func (b *banList) get(id string) (*Ticket, bool) {
	s := b.lock(id)
	defer s.mu.Unlock()
	tk, ok := s.m[id]
	return tk, ok
}
