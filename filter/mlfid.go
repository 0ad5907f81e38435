package filter

import (
	"time"

	"github.com/f2bx/f2bx/filter/fields"
)

// mlfidCache holds multi-line sessions by their id with fail2ban's cache
// rules (100 sessions, each kept 5 minutes after it was last set): when
// full, the oldest entries (by first insertion) go first, at least one,
// even when the key being set is present; updating keeps an entry's place.
// The entries are a list in insertion order, linked through a slice whose
// slots are reused: setting a session allocates nothing once the cache
// has filled.
type mlfidCache struct {
	max   int
	ttl   time.Duration
	now   func() time.Time
	nodes []mlfidNode
	free  []int32 // unused slots of nodes
	head  int32   // oldest entry, -1 when empty
	tail  int32   // newest entry, -1 when empty
	items map[string]int32
	// frozen, when set, stands for now (one reading for a batch).
	frozen time.Time
}

// mlfidNode is one session in the cache's list.
type mlfidNode struct {
	key        string
	fail       *fields.Set
	expires    time.Time
	prev, next int32
}

func (c *mlfidCache) clock() time.Time {
	if !c.frozen.IsZero() {
		return c.frozen
	}
	return c.now()
}

func newMLFIDCache(max int, now func() time.Time) *mlfidCache {
	return &mlfidCache{max: max, ttl: 5 * time.Minute, now: now, head: -1, tail: -1, items: map[string]int32{}}
}

func (c *mlfidCache) get(k string) *fields.Set {
	i, ok := c.items[k]
	if !ok {
		return nil
	}
	n := &c.nodes[i]
	if n.fail != nil && n.expires.After(c.clock()) {
		return n.fail
	}
	c.remove(i)
	return nil
}

func (c *mlfidCache) set(k string, f *fields.Set) {
	now := c.clock()
	if len(c.items) >= c.max {
		for c.head >= 0 {
			alive := c.nodes[c.head].expires.After(now)
			c.remove(c.head)
			if alive && len(c.items) < c.max {
				break
			}
		}
	}
	if i, ok := c.items[k]; ok {
		c.nodes[i].fail, c.nodes[i].expires = f, now.Add(c.ttl)
		return
	}
	var i int32
	if n := len(c.free); n > 0 {
		i, c.free = c.free[n-1], c.free[:n-1]
	} else {
		i = int32(len(c.nodes))
		c.nodes = append(c.nodes, mlfidNode{})
	}
	c.nodes[i] = mlfidNode{key: k, fail: f, expires: now.Add(c.ttl), prev: c.tail, next: -1}
	if c.tail >= 0 {
		c.nodes[c.tail].next = i
	} else {
		c.head = i
	}
	c.tail = i
	c.items[k] = i
}

func (c *mlfidCache) unset(k string) {
	if i, ok := c.items[k]; ok {
		c.remove(i)
	}
}

// remove unlinks slot i and frees it.
func (c *mlfidCache) remove(i int32) {
	n := &c.nodes[i]
	if n.prev >= 0 {
		c.nodes[n.prev].next = n.next
	} else {
		c.head = n.next
	}
	if n.next >= 0 {
		c.nodes[n.next].prev = n.prev
	} else {
		c.tail = n.prev
	}
	delete(c.items, n.key)
	*n = mlfidNode{}
	c.free = append(c.free, i)
}

// updateUsers adds user to the session's set of users.
func updateUsers(fail *fields.Set, u string) []string {
	users := fail.Strings("users")
	if u == "" {
		return users
	}
	for _, x := range users {
		if x == u {
			return users
		}
	}
	if len(users) == 0 {
		users = fail.OneList(u)
	} else {
		users = append(append([]string(nil), users...), u)
	}
	fail.SetList("users", users)
	return users
}

// Flags of a merge.
const (
	nfNoFail = 1
	nfForget = 2
	nfState  = 4
	nfGained = 8
)

// mergeFailure merges a match into the session of its multi-line failure
// id: a session collects users and matched lines; <F-NOFAIL> matches wait
// for a failure, <F-MLFFORGET> ends the session, <F-MLFGAINED> (a
// successful login) resets what was pending. The session's key is the
// mlfid group's text (or the value printed).
func (f *Filter) mergeFailure(mlfid string, fail *fields.Set, matched []string) *fields.Set {
	sess := f.mlfid.get(mlfid)
	var users []string
	flags := 0
	if fail.Truthy("mlfgained") {
		flags |= nfGained | nfNoFail
		if !fail.Truthy("nofail") {
			fail.Copy("nofail", "mlfgained")
		}
	} else if fail.Truthy("nofail") {
		flags |= nfNoFail
	}
	if fail.Truthy("mlfforget") {
		flags |= nfForget
	}
	fail.Delete("mlfforget")
	if sess != nil {
		users = updateUsers(sess, fail.Str("user"))
		if sess.Truthy("nofail") {
			flags |= nfState
		}
		sess.Delete("nofail")
		if sess.Truthy("mlfgained") {
			flags |= nfState
		}
		sess.Delete("mlfgained")
		if flags&nfGained != 0 {
			sess.Delete("mlfpending")
		}
		if flags&nfState == 0 && !sess.Truthy("mlfpending") {
			sess.Delete("matches")
		}
		sess.Update(fail)
		fail = sess
		if flags&nfForget != 0 {
			f.mlfid.unset(mlfid)
		}
	} else if flags&nfForget == 0 {
		users = updateUsers(fail, fail.Str("user"))
		f.mlfid.set(mlfid, fail)
	}
	pending := fail.Truthy("mlfpending")
	fail.Delete("mlfpending")
	if pending || len(users) > 1 {
		fail.Delete("nofail")
		fail.Delete("mlfgained")
		flags &^= nfGained | nfNoFail
	}
	switch {
	case flags&nfNoFail == 0:
		nm, om := fail.Strings("nofail-matches"), fail.Strings("matches")
		var m []string
		if len(nm)+len(om) == 0 && flags&nfGained == 0 && len(matched) == 1 {
			m = fail.OneList(matched[0])
		} else {
			m = append(append([]string(nil), nm...), om...)
			if flags&nfGained == 0 {
				m = append(m, matched...)
			}
		}
		fail.Delete("nofail-matches")
		fail.SetList("matches", m)
	case flags&(nfNoFail|nfForget) == nfNoFail:
		fail.SetList("nofail-matches", append(append([]string(nil), fail.Strings("nofail-matches")...), matched...))
	}
	return fail
}
