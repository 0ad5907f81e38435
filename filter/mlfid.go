package filter

import (
	"container/list"
	"fmt"
	"time"
)

// mlfidCache holds multi-line sessions by their id with fail2ban's cache
// rules (100 sessions, each kept 5 minutes after it was last set): when full, the
// oldest entries (by first insertion) go first, at least one, even when
// the key being set is present; updating keeps an entry's place.
type mlfidCache struct {
	max   int
	ttl   time.Duration
	now   func() time.Time
	order *list.List
	items map[string]*list.Element
	// frozen, when set, stands for now (one reading for a batch).
	frozen time.Time
}

func (c *mlfidCache) clock() time.Time {
	if !c.frozen.IsZero() {
		return c.frozen
	}
	return c.now()
}

type mlfidEntry struct {
	key     string
	fail    Fields
	expires time.Time
}

func newMLFIDCache(max int, now func() time.Time) *mlfidCache {
	return &mlfidCache{max: max, ttl: 5 * time.Minute, now: now, order: list.New(), items: map[string]*list.Element{}}
}

func (c *mlfidCache) get(k string) Fields {
	e, ok := c.items[k]
	if !ok {
		return nil
	}
	ent := e.Value.(*mlfidEntry)
	if ent.fail != nil && ent.expires.After(c.clock()) {
		return ent.fail
	}
	c.unset(k)
	return nil
}

func (c *mlfidCache) set(k string, f Fields) {
	now := c.clock()
	if c.order.Len() >= c.max {
		for c.order.Len() > 0 {
			front := c.order.Front()
			ent := front.Value.(*mlfidEntry)
			c.order.Remove(front)
			delete(c.items, ent.key)
			if ent.expires.After(now) && c.order.Len() < c.max {
				break
			}
		}
	}
	if e, ok := c.items[k]; ok {
		ent := e.Value.(*mlfidEntry)
		ent.fail, ent.expires = f, now.Add(c.ttl)
		return
	}
	c.items[k] = c.order.PushBack(&mlfidEntry{key: k, fail: f, expires: now.Add(c.ttl)})
}

func (c *mlfidCache) unset(k string) {
	if e, ok := c.items[k]; ok {
		c.order.Remove(e)
		delete(c.items, k)
	}
}

// updateUsers adds user to the session's set of users.
func updateUsers(fail Fields, user any) []string {
	users := fail.Strings("users")
	u, _ := user.(string)
	if u == "" {
		return users
	}
	for _, x := range users {
		if x == u {
			return users
		}
	}
	users = append(append([]string(nil), users...), u)
	fail["users"] = users
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
func (f *Filter) mergeFailure(id any, fail Fields, matched []string) Fields {
	mlfid, ok := id.(string)
	if !ok {
		mlfid = fmt.Sprint(id)
	}
	sess := f.mlfid.get(mlfid)
	var users []string
	flags := 0
	if truthy(fail["mlfgained"]) {
		flags |= nfGained | nfNoFail
		if !truthy(fail["nofail"]) {
			fail["nofail"] = fail["mlfgained"]
		}
	} else if truthy(fail["nofail"]) {
		flags |= nfNoFail
	}
	if truthy(fail["mlfforget"]) {
		flags |= nfForget
	}
	delete(fail, "mlfforget")
	if sess != nil {
		users = updateUsers(sess, fail["user"])
		if truthy(sess["nofail"]) {
			flags |= nfState
		}
		delete(sess, "nofail")
		if truthy(sess["mlfgained"]) {
			flags |= nfState
		}
		delete(sess, "mlfgained")
		if flags&nfGained != 0 {
			delete(sess, "mlfpending")
		}
		if flags&nfState == 0 && !truthy(sess["mlfpending"]) {
			delete(sess, "matches")
		}
		for k, v := range fail {
			if v != nil {
				sess[k] = v
			}
		}
		fail = sess
		if flags&nfForget != 0 {
			f.mlfid.unset(mlfid)
		}
	} else if flags&nfForget == 0 {
		users = updateUsers(fail, fail["user"])
		f.mlfid.set(mlfid, fail)
	}
	pending := truthy(fail["mlfpending"])
	delete(fail, "mlfpending")
	if pending || len(users) > 1 {
		delete(fail, "nofail")
		delete(fail, "mlfgained")
		flags &^= nfGained | nfNoFail
	}
	switch {
	case flags&nfNoFail == 0:
		m := append([]string(nil), fail.Strings("nofail-matches")...)
		delete(fail, "nofail-matches")
		m = append(m, fail.Strings("matches")...)
		if flags&nfGained == 0 {
			m = append(m, matched...)
		}
		fail["matches"] = m
	case flags&(nfNoFail|nfForget) == nfNoFail:
		fail["nofail-matches"] = append(append([]string(nil), fail.Strings("nofail-matches")...), matched...)
	}
	return fail
}
