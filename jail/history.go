package jail

import (
	"sync"

	"github.com/f2bx/f2bx/store"
)

// History remembers, for every id, its latest ban in each jail: the ban
// counts bantime.increment works from (fail2ban's bips table, kept in
// memory so that the failure path never waits for the database). One
// History is shared by all jails, for bantime.overalljails.
type History struct {
	mu   sync.Mutex
	byID map[string][]record
}

type record struct {
	jail    string
	time    int64
	banTime float64
	count   int
}

// NewHistory returns a history holding the stored bans (store.History).
func NewHistory(bans []store.Ban) *History {
	h := &History{byID: map[string][]record{}}
	for _, b := range bans {
		h.put(b.Jail, b.ID, b.Time, b.BanTime, b.Count)
	}
	return h
}

func (h *History) put(jail, id string, t int64, banTime float64, count int) {
	recs := h.byID[id]
	for i := range recs {
		if recs[i].jail == jail {
			recs[i] = record{jail, t, banTime, count}
			return
		}
	}
	h.byID[id] = append(recs, record{jail, t, banTime, count})
}

// Record notes a ban.
func (h *History) Record(jail, id string, t int64, banTime float64, count int) {
	h.mu.Lock()
	h.put(jail, id, t, banTime, count)
	h.mu.Unlock()
}

// Forget drops an id's record in a jail (a manual unban), or the jail's
// every record when id is empty.
func (h *History) Forget(jail, id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if id != "" {
		h.drop(jail, id)
		return
	}
	for k := range h.byID {
		h.drop(jail, k)
	}
}

// drop removes id's record in jail; h.mu is held.
func (h *History) drop(jail, id string) {
	recs := h.byID[id]
	keep := recs[:0]
	for _, r := range recs {
		if r.jail != jail {
			keep = append(keep, r)
		}
	}
	if len(keep) == 0 {
		delete(h.byID, id)
	} else {
		h.byID[id] = keep
	}
}

// Lookup is fail2ban's getBan: the id's ban count, time of its last ban
// and that ban's time, in one jail or summed over all (overall).
func (h *History) Lookup(jail, id string, overall bool) (count int, timeOfBan int64, banTime float64, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.byID[id] {
		if overall {
			count += r.count
			timeOfBan = max(timeOfBan, r.time)
			banTime += r.banTime
			ok = true
		} else if r.jail == jail {
			return r.count, r.time, r.banTime, true
		}
	}
	return count, timeOfBan, banTime, ok
}

// Purge drops what the database purge drops: ids whose last ban is older
// than age and ended long ago; permanent bans stay.
func (h *History) Purge(now, age float64) {
	limit := int64(now - age)
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, recs := range h.byID {
		keep := recs[:0]
		for _, r := range recs {
			if r.time >= limit || r.banTime == -1 || float64(r.time)+r.banTime*3 >= float64(limit) {
				keep = append(keep, r)
			}
		}
		if len(keep) == 0 {
			delete(h.byID, id)
		} else {
			h.byID[id] = keep
		}
	}
}
