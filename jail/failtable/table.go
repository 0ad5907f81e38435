// Package failtable counts failures per id (an address, or an <F-ID> text)
// the way fail2ban's FailManager does, in a sharded hashtable whose size is
// capped: when a shard is full, its least recently failed entry is evicted
// and counted.
package failtable

import (
	"hash/maphash"
	"math"
	"math/bits"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/f2bx/f2bx/filter/fields"
	"golang.org/x/sys/cpu"
)

// Data is what a ticket carries beyond its counts: the fields the filter
// captured (user, ...) on the first failure, and the last matched lines.
type Data struct {
	Fields  *fields.Set
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
	Fields  *fields.Set
	Matches []string
	// Lent marks Fields and Matches borrowed (a filter's batch memory,
	// filter.Group.Lend): the table keeps copies.
	Lent bool
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
}

type shard[K comparable] struct {
	mu sync.Mutex
	// index finds a key's slot: open addressing with linear probing, each
	// bucket a slot number (+1, 0 is empty) and the key's hash.
	index []bucket
	n     int
	// slots are allocated in chunks so that growing copies nothing.
	chunks [][]slot[K]
	used   int32
	// head is the most recently failed entry, tail the least; free is a
	// list of unused slots linked through next.
	head, tail, free int32
	cap              int
	seed             maphash.Seed
	// failures and evicted are counted per shard, under its lock: a
	// shared counter would be a contended cache line.
	failures, evicted uint64
	_                 cpu.CacheLinePad
}

type bucket struct {
	slot int32 // slot number + 1; 0 is an empty bucket
	hash uint32
}

// Slots live in chunks of 16, 32, ... 1024 slots, then 1024 each: a small
// table stays small, and a large one never copies its slots to grow.
const (
	firstChunk = 16
	lastChunk  = 1024
	// geometric is the number of slots in the growing chunks (16..512).
	geometric = lastChunk - firstChunk
)

// chunkOf returns the chunk holding slot i and i's place in it.
func chunkOf(i int32) (c, off int) {
	if i < geometric {
		c = bits.Len32(uint32(i)/firstChunk+1) - 1
		return c, int(i) - firstChunk*(1<<c-1)
	}
	i -= geometric
	return 6 + int(i)/lastChunk, int(i) % lastChunk
}

func chunkSize(c int) int { return min(firstChunk<<c, lastChunk) }

type slot[K comparable] struct {
	key        K
	e          Entry
	prev, next int32
}

func (s *shard[K]) at(i int32) *slot[K] {
	c, off := chunkOf(i)
	return &s.chunks[c][off]
}

// find returns the bucket position holding k, or the empty one where it
// belongs.
func (s *shard[K]) find(k K, h uint32) (pos int, found bool) {
	mask := len(s.index) - 1
	for pos = int(h) & mask; ; pos = (pos + 1) & mask {
		b := s.index[pos]
		if b.slot == 0 {
			return pos, false
		}
		if b.hash == h && s.at(b.slot-1).key == k {
			return pos, true
		}
	}
}

func (s *shard[K]) lookup(k K, h uint32) (int32, bool) {
	if s.n == 0 {
		return 0, false
	}
	pos, ok := s.find(k, h)
	return s.index[pos].slot - 1, ok
}

func (s *shard[K]) insertIndex(i int32, h uint32) {
	if (s.n+1)*4 > len(s.index)*3 {
		s.grow()
	}
	pos, _ := s.find(s.at(i).key, h)
	s.index[pos] = bucket{slot: i + 1, hash: h}
	s.n++
}

func (s *shard[K]) grow() {
	old := s.index
	s.index = make([]bucket, max(16, 2*len(old)))
	mask := len(s.index) - 1
	for _, b := range old {
		if b.slot == 0 {
			continue
		}
		pos := int(b.hash) & mask
		for s.index[pos].slot != 0 {
			pos = (pos + 1) & mask
		}
		s.index[pos] = b
	}
}

// deleteIndex empties a bucket and shifts the following ones back so
// that no probe sequence is broken (no tombstones).
func (s *shard[K]) deleteIndex(pos int) {
	mask := len(s.index) - 1
	for {
		s.index[pos] = bucket{}
		next := pos
		for {
			next = (next + 1) & mask
			b := s.index[next]
			if b.slot == 0 {
				s.n--
				return
			}
			home := int(b.hash) & mask
			// Move b back when its home is not in (pos, next].
			if (next > pos && (home <= pos || home > next)) || (next < pos && home <= pos && home > next) {
				s.index[pos] = b
				pos = next
				break
			}
		}
	}
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
		s.seed = t.seed
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

func (t *Table[K]) shard(k K) (*shard[K], uint32) {
	h := maphash.Comparable(t.seed, k)
	return &t.shards[(h>>32)&t.mask], uint32(h)
}

// Add counts a failure. When the id's retry count reaches maxretry, its
// entry leaves the table and is returned with ban set (fail2ban's
// addFailure followed by toBan). An observed failure for an id the table
// does not hold changes nothing.
func (t *Table[K]) Add(k K, f Failure) (e Entry, ban bool) {
	r := t.rules()
	s, h := t.shard(k)
	s.mu.Lock()
	e, ban = s.add(k, h, &f, r)
	s.mu.Unlock()
	return e, ban
}

// Put stores an entry as it is (replacing the key's), for carrying counts
// over from another table; the cap applies as in Add.
func (t *Table[K]) Put(k K, e Entry) {
	s, h := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.lookup(k, h)
	if !ok {
		if s.n >= s.cap {
			s.evictOldest()
			s.evicted++
		}
		i = s.alloc(k, h)
	} else {
		s.touch(i)
	}
	s.at(i).e = e
}

// AddBatch counts the failures fs[i] of keys[i], in order per key, taking
// each shard's lock once for all of its keys in the batch: a batch of
// failures from few addresses costs few lock handovers between cores.
// banned is called, after the locks are released, for each failure that
// made its key reach maxretry.
func (t *Table[K]) AddBatch(keys []K, fs []Failure, banned func(i int, e Entry)) {
	b := batchPool.Get().(*batch)
	defer batchPool.Put(b)
	n := len(keys)
	b.hash = grow(b.hash, n)
	b.order = grow(b.order, n)
	b.start = grow(b.start, len(t.shards)+1)
	clear(b.start)
	for i, k := range keys {
		h := maphash.Comparable(t.seed, k)
		b.hash[i] = h
		b.start[(h>>32)&t.mask+1]++
	}
	for i := 1; i < len(b.start); i++ {
		b.start[i] += b.start[i-1]
	}
	fill := append(b.fill[:0], b.start[:len(t.shards)]...)
	b.fill = fill
	for i := range keys {
		si := (b.hash[i] >> 32) & t.mask
		b.order[fill[si]] = int32(i)
		fill[si]++
	}
	r := t.rules()
	b.bans = b.bans[:0]
	for si := range t.shards {
		lo, hi := b.start[si], b.start[si+1]
		if lo == hi {
			continue
		}
		s := &t.shards[si]
		s.mu.Lock()
		for _, i := range b.order[lo:hi] {
			if e, ban := s.add(keys[i], uint32(b.hash[i]), &fs[i], r); ban {
				b.bans = append(b.bans, banned1{int(i), e})
			}
		}
		s.mu.Unlock()
	}
	for _, x := range b.bans {
		banned(x.i, x.e)
	}
}

type batch struct {
	hash        []uint64
	order       []int32
	start, fill []int32
	bans        []banned1
}

type banned1 struct {
	i int
	e Entry
}

var batchPool = sync.Pool{New: func() any { return new(batch) }}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

type rules struct {
	maxRetry   int32
	findTime   float64
	maxMatches int
}

func (t *Table[K]) rules() rules {
	return rules{t.maxRetry.Load(), math.Float64frombits(t.findTime.Load()), int(t.matches.Load())}
}

// add counts one failure; the shard is locked.
func (s *shard[K]) add(k K, h uint32, f *Failure, r rules) (e Entry, ban bool) {
	count := int32(f.Count)
	if count <= 0 {
		count = 1
	}
	i, ok := s.lookup(k, h)
	if !ok {
		if f.Observed {
			return Entry{}, false
		}
		if s.n >= s.cap {
			s.evictOldest()
			s.evicted++
		}
		i = s.alloc(k, h)
		e := &s.at(i).e
		*e = Entry{First: f.Time, Last: f.Time, Retry: count, Failures: 1}
		if f.Fields != nil || (r.maxMatches > 0 && len(f.Matches) > 0) {
			fs := f.Fields
			if f.Lent {
				fs = fs.Own()
			}
			e.Data = newData(fs, r.maxMatches)
			if r.maxMatches > 0 {
				e.Data.Matches = lastN(appendMatches(e.Data.Matches, f), r.maxMatches)
			}
		}
	} else {
		e := &s.at(i).e
		adjustTime(e, f.Time, r.findTime)
		e.Retry += count
		e.Failures++
		if r.maxMatches > 0 && !f.Observed && len(f.Matches) > 0 {
			if e.Data == nil {
				e.Data = newData(nil, r.maxMatches)
			}
			e.Data.Matches = lastN(appendMatches(e.Data.Matches, f), r.maxMatches)
		} else if r.maxMatches == 0 && e.Data != nil {
			e.Data.Matches = nil
		}
		s.touch(i)
	}
	s.failures++
	e = s.at(i).e
	if e.Retry >= r.maxRetry {
		s.remove(i)
		return e, true
	}
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

// newData returns an entry's data with room for maxMatches lines (up to
// dataRoom) in the same allocation: an entry's first failures then add
// their lines without allocating.
func newData(f *fields.Set, maxMatches int) *Data {
	if maxMatches <= 0 {
		return &Data{Fields: f}
	}
	b := new(struct {
		d    Data
		room [dataRoom]string
	})
	b.d.Fields = f
	b.d.Matches = b.room[:0:min(maxMatches, dataRoom)]
	return &b.d
}

// dataRoom is the matched lines an entry's data holds in its own
// allocation: maxretry's default and more.
const dataRoom = 5

// appendMatches appends f's matched lines to m, copies of them when they
// are lent.
func appendMatches(m []string, f *Failure) []string {
	if !f.Lent {
		return append(m, f.Matches...)
	}
	for _, l := range f.Matches {
		m = append(m, strings.Clone(l))
	}
	return m
}

func lastN(m []string, n int) []string {
	if len(m) > n {
		return append([]string(nil), m[len(m)-n:]...)
	}
	return m
}

// Get returns the entry of an id.
func (t *Table[K]) Get(k K) (Entry, bool) {
	s, h := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.lookup(k, h); ok {
		return s.at(i).e, true
	}
	return Entry{}, false
}

// Delete forgets an id (fail2ban's delFailure).
func (t *Table[K]) Delete(k K) {
	s, h := t.shard(k)
	s.mu.Lock()
	if i, ok := s.lookup(k, h); ok {
		s.remove(i)
	}
	s.mu.Unlock()
}

// Expire forgets every id whose last failure is findtime or more before
// now (fail2ban's cleanup) and returns how many it forgot. It yields
// the processor after each shard.
func (t *Table[K]) Expire(now float64) int {
	limit := now - math.Float64frombits(t.findTime.Load())
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		// The list runs from the most to the least recently failed, but a
		// late line can carry an older time: check every entry.
		for j := s.tail; j != none; {
			prev := s.at(j).prev
			if s.at(j).e.Last <= limit {
				s.remove(j)
				n++
			}
			j = prev
		}
		s.mu.Unlock()
		// A full table takes tens of milliseconds to scan: let the
		// goroutines that add failures run between shards, also on a
		// daemon with one processor.
		runtime.Gosched()
	}
	return n
}

// Len is the number of ids tracked.
func (t *Table[K]) Len() int { return t.Stats().Tracked }

// Stats are the table's counters.
type Stats struct {
	// Tracked ids now, failures counted, and entries evicted by the cap.
	Tracked     int
	Failures    uint64
	Evicted     uint64
	Cap, Shards int
}

// Stats returns the table's counters.
func (t *Table[K]) Stats() Stats {
	st := Stats{Cap: t.shards[0].cap * len(t.shards), Shards: len(t.shards)}
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		st.Tracked += s.n
		st.Failures += s.failures
		st.Evicted += s.evicted
		s.mu.Unlock()
	}
	return st
}

// Range calls fn for every entry, shard by shard, until fn returns false.
func (t *Table[K]) Range(fn func(K, Entry) bool) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for j := s.head; j != none; j = s.at(j).next {
			if !fn(s.at(j).key, s.at(j).e) {
				s.mu.Unlock()
				return
			}
		}
		s.mu.Unlock()
	}
}

func (s *shard[K]) alloc(k K, h uint32) int32 {
	var i int32
	if s.free != none {
		i = s.free
		s.free = s.at(i).next
	} else {
		if c, _ := chunkOf(s.used); c == len(s.chunks) {
			s.chunks = append(s.chunks, make([]slot[K], chunkSize(c)))
		}
		i = s.used
		s.used++
	}
	s.at(i).key = k
	s.insertIndex(i, h)
	s.pushFront(i)
	return i
}

func (s *shard[K]) pushFront(i int32) {
	sl := s.at(i)
	sl.prev, sl.next = none, s.head
	if s.head != none {
		s.at(s.head).prev = i
	}
	s.head = i
	if s.tail == none {
		s.tail = i
	}
}

func (s *shard[K]) unlink(i int32) {
	p, n := s.at(i).prev, s.at(i).next
	if p != none {
		s.at(p).next = n
	} else {
		s.head = n
	}
	if n != none {
		s.at(n).prev = p
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
	sl := s.at(i)
	h := uint32(maphash.Comparable(s.seed, sl.key))
	pos, _ := s.find(sl.key, h)
	s.deleteIndex(pos)
	*sl = slot[K]{next: s.free}
	s.free = i
}

func (s *shard[K]) evictOldest() {
	if s.tail != none {
		s.remove(s.tail)
	}
}
