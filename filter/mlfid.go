package filter

import "container/list"

// mlfidCache holds multi-line sessions by their id, the oldest evicted
// when full.
type mlfidCache struct {
	max   int
	order *list.List
	items map[string]*list.Element
}

type mlfidEntry struct {
	key  string
	fail Fields
}

func newMLFIDCache(max int) *mlfidCache {
	return &mlfidCache{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (c *mlfidCache) get(k string) Fields {
	if e, ok := c.items[k]; ok {
		return e.Value.(*mlfidEntry).fail
	}
	return nil
}

func (c *mlfidCache) set(k string, f Fields) {
	if e, ok := c.items[k]; ok {
		e.Value.(*mlfidEntry).fail = f
		c.order.MoveToBack(e)
		return
	}
	c.items[k] = c.order.PushBack(&mlfidEntry{key: k, fail: f})
	for c.order.Len() > c.max {
		old := c.order.Front()
		c.order.Remove(old)
		delete(c.items, old.Value.(*mlfidEntry).key)
	}
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
// successful login) resets what was pending.
func (f *Filter) mergeFailure(mlfid string, fail Fields, fr *searchResult) Fields {
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
			m = append(m, linesOf(fr.matched)...)
		}
		fail["matches"] = m
	case flags&(nfNoFail|nfForget) == nfNoFail:
		fail["nofail-matches"] = append(append([]string(nil), fail.Strings("nofail-matches")...), linesOf(fr.matched)...)
	}
	return fail
}
