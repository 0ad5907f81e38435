// Package failtable counts failures per id (an address, or an <F-ID> text)
// the way fail2ban's FailManager does, in a sharded hashtable whose size is
// capped: when a shard is full, its least recently failed entry is evicted
// and counted.
package failtable

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/cpu"
)

// Data is what a ticket carries beyond its counts: the fields the filter
// captured (user, ...) on the first failure, and the last matched lines.
type Data struct {
	Fields  map[string]any
	Matches []string
}

// Entry is what the table knows of one id: fail2ban's FailTicket.
type Entry struct {
	// First is the start of the counting window and Last the time of the
	// last failure, both in log time (Unix seconds).
	First, Last float64
	// Retry is the count compared with maxretry: failures, scaled down when
	// they spread over more than findtime, raised for known-bad addresses.
	Retry int32
	// Failures is the number of failures seen.
	Failures int32
	// Data is nil when there are neither fields nor matches.
	Data *Data
}

// Failure is one failure to count.
type Failure struct {
	// Time is the log time of the failure (Unix seconds).
	Time float64
	// Count is added to the retry count (1 for a failure found by a filter;
	// more for an address known to be bad).
	Count int
	// Data of the first failure stays with the entry; matches accumulate.
	Fields  map[string]any
	Matches []string
	// Observed marks an extra count for a known-bad address: it only raises
	// the count of an entry that is already there.
	Observed bool
}

// Config sets the counting rules and the size cap.
type Config struct {
	MaxRetry int
	// FindTime is the counting window in seconds.
	FindTime float64
	// MaxMatches is how many matched lines an entry keeps (0: none).
	MaxMatches int
	// Cap is the most entries the table holds (0: DefaultCap).
	Cap int
	// Shards is rounded up to a power of two (0: DefaultShards).
	Shards int
}

// DefaultCap is the default cap on tracked ids per table.
const DefaultCap = 1 << 20

// DefaultShards is the default shard count.
const DefaultShards = 64

// Table counts failures per id in shards, one lock each.
type Table[K comparable] struct {
	shards   []shard[K]
	mask     uint64
	seed     maphash.Seed
	maxRetry atomic.Int32
	findTime atomic.Uint64 // float64 bits
	matches  atomic.Int32
	evicted  atomic.Uint64
	total    atomic.Uint64
}

type shard[K comparable] struct {
	mu    sync.Mutex
	index map[K]int32
	slots []slot[K]
	// head is the most recently failed entry, tail the least; free is a
	// list of unused slots linked through next.
	head, tail, free int32
	cap              int
	_                cpu.CacheLinePad
}

type slot[K comparable] struct {
	key        K
	e          Entry
	prev, next int32
}

const none = -1

// New returns an empty table.
func New[K comparable](c Config) *Table[K] {
	n := c.Shards
	if n <= 0 {
		n = DefaultShards
	}
	p := 1
	for p < n {
		p <<= 1
	}
	capacity := c.Cap
	if capacity <= 0 {
		capacity = DefaultCap
	}
	per := (capacity + p - 1) / p
	t := &Table[K]{shards: make([]shard[K], p), mask: uint64(p - 1), seed: maphash.MakeSeed()}
	for i := range t.shards {
		s := &t.shards[i]
		s.index = make(map[K]int32)
		s.head, s.tail, s.free = none, none, none
		s.cap = per
	}
	t.SetRules(c.MaxRetry, c.FindTime, c.MaxMatches)
	return t
}

// SetRules changes maxretry, findtime and maxmatches (as fail2ban's set
// commands do on a running jail).
func (t *Table[K]) SetRules(maxRetry int, findTime float64, maxMatches int) {
	t.maxRetry.Store(int32(maxRetry))
	t.findTime.Store(math.Float64bits(findTime))
	t.matches.Store(int32(maxMatches))
}

// MaxRetry is the count at which an id is banned.
func (t *Table[K]) MaxRetry() int { return int(t.maxRetry.Load()) }

func (t *Table[K]) shard(k K) *shard[K] {
	return &t.shards[maphash.Comparable(t.seed, k)&t.mask]
}

// Add counts a failure. When the id's retry count reaches maxretry, its
// entry leaves the table and is returned with ban set (fail2ban's
// addFailure followed by toBan). An observed failure for an id the table
// does not hold changes nothing.
func (t *Table[K]) Add(k K, f Failure) (e Entry, ban bool) {
	maxRetry := t.maxRetry.Load()
	findTime := math.Float64frombits(t.findTime.Load())
	maxMatches := int(t.matches.Load())
	count := int32(f.Count)
	if count <= 0 {
		count = 1
	}
	s := t.shard(k)
	s.mu.Lock()
	i, ok := s.index[k]
	if !ok {
		if f.Observed {
			s.mu.Unlock()
			return Entry{}, false
		}
		if len(s.index) >= s.cap {
			s.evictOldest()
			t.evicted.Add(1)
		}
		i = s.alloc(k)
		e := &s.slots[i].e
		*e = Entry{First: f.Time, Last: f.Time, Retry: count, Failures: 1}
		if f.Fields != nil || (maxMatches > 0 && len(f.Matches) > 0) {
			e.Data = &Data{Fields: f.Fields}
			if maxMatches > 0 {
				e.Data.Matches = lastN(f.Matches, maxMatches)
			}
		}
	} else {
		e := &s.slots[i].e
		adjustTime(e, f.Time, findTime)
		e.Retry += count
		e.Failures++
		if maxMatches > 0 && !f.Observed && len(f.Matches) > 0 {
			if e.Data == nil {
				e.Data = &Data{}
			}
			e.Data.Matches = lastN(append(e.Data.Matches, f.Matches...), maxMatches)
		} else if maxMatches == 0 && e.Data != nil {
			e.Data.Matches = nil
		}
		s.touch(i)
	}
	t.total.Add(1)
	e = s.slots[i].e
	if e.Retry >= maxRetry {
		s.remove(i)
		s.mu.Unlock()
		return e, true
	}
	s.mu.Unlock()
	return e, false
}

// adjustTime is fail2ban's FailTicket.adjustTime: when failures spread over
// more than findtime, the retry count is scaled to the rate over the last
// findtime (Python's round, half to even).
func adjustTime(e *Entry, t, findTime float64) {
	if t <= e.Last {
		return
	}
	if e.First < t-findTime {
		e.Retry = int32(math.RoundToEven(float64(e.Retry) / (t - e.First) * findTime))
		e.First = t - findTime
	}
	e.Last = t
}

func lastN(m []string, n int) []string {
	if len(m) > n {
		return append([]string(nil), m[len(m)-n:]...)
	}
	return m
}

// Get returns the entry of an id.
func (t *Table[K]) Get(k K) (Entry, bool) {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.index[k]; ok {
		return s.slots[i].e, true
	}
	return Entry{}, false
}

// Delete forgets an id (fail2ban's delFailure).
func (t *Table[K]) Delete(k K) {
	s := t.shard(k)
	s.mu.Lock()
	if i, ok := s.index[k]; ok {
		s.remove(i)
	}
	s.mu.Unlock()
}

// Expire forgets every id whose last failure is findtime or more before
// now (fail2ban's cleanup) and returns how many it forgot.
func (t *Table[K]) Expire(now float64) int {
	limit := now - math.Float64frombits(t.findTime.Load())
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		// The list runs from the most to the least recently failed, but a
		// late line can carry an older time: check every entry.
		for j := s.tail; j != none; {
			prev := s.slots[j].prev
			if s.slots[j].e.Last <= limit {
				s.remove(j)
				n++
			}
			j = prev
		}
		s.mu.Unlock()
	}
	return n
}

// Len is the number of ids tracked.
func (t *Table[K]) Len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.index)
		s.mu.Unlock()
	}
	return n
}

// Stats are the table's counters.
type Stats struct {
	// Tracked ids now, failures counted, and entries evicted by the cap.
	Tracked        int
	Failures       uint64
	Evicted        uint64
	Cap, ShardsLen int
}

// Stats returns the table's counters.
func (t *Table[K]) Stats() Stats {
	return Stats{Tracked: t.Len(), Failures: t.total.Load(), Evicted: t.evicted.Load(),
		Cap: t.shards[0].cap * len(t.shards), ShardsLen: len(t.shards)}
}

// Range calls fn for every entry, shard by shard, until fn returns false.
func (t *Table[K]) Range(fn func(K, Entry) bool) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for j := s.head; j != none; j = s.slots[j].next {
			if !fn(s.slots[j].key, s.slots[j].e) {
				s.mu.Unlock()
				return
			}
		}
		s.mu.Unlock()
	}
}

func (s *shard[K]) alloc(k K) int32 {
	var i int32
	if s.free != none {
		i = s.free
		s.free = s.slots[i].next
	} else {
		s.slots = append(s.slots, slot[K]{})
		i = int32(len(s.slots) - 1)
	}
	s.slots[i].key = k
	s.index[k] = i
	s.pushFront(i)
	return i
}

func (s *shard[K]) pushFront(i int32) {
	s.slots[i].prev, s.slots[i].next = none, s.head
	if s.head != none {
		s.slots[s.head].prev = i
	}
	s.head = i
	if s.tail == none {
		s.tail = i
	}
}

func (s *shard[K]) unlink(i int32) {
	p, n := s.slots[i].prev, s.slots[i].next
	if p != none {
		s.slots[p].next = n
	} else {
		s.head = n
	}
	if n != none {
		s.slots[n].prev = p
	} else {
		s.tail = p
	}
}

func (s *shard[K]) touch(i int32) {
	if s.head == i {
		return
	}
	s.unlink(i)
	s.pushFront(i)
}

func (s *shard[K]) remove(i int32) {
	s.unlink(i)
	delete(s.index, s.slots[i].key)
	var zero slot[K]
	s.slots[i] = zero
	s.slots[i].next = s.free
	s.free = i
}

func (s *shard[K]) evictOldest() {
	if s.tail != none {
		s.remove(s.tail)
	}
}
