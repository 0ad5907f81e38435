package jail

import "context"

// Jails are the daemon's jails, for what acts across them.
type Jails []*Jail

// Get returns the jail of that name.
func (js Jails) Get(name string) (*Jail, bool) {
	for _, j := range js {
		if j.Name() == name {
			return j, true
		}
	}
	return nil, false
}

// Unban lifts the bans of ids in every jail; it returns the ids that no
// jail had banned.
func (js Jails) Unban(ctx context.Context, ids []string) (notBanned []string) {
	misses := map[string]int{}
	for _, j := range js {
		for _, id := range j.Unban(ctx, ids) {
			misses[id]++
		}
	}
	for _, id := range ids {
		if misses[id] == len(js) {
			notBanned = append(notBanned, id)
		}
	}
	return notBanned
}

// UnbanAll lifts every ban of every jail (unban --all).
func (js Jails) UnbanAll(ctx context.Context) (n int) {
	for _, j := range js {
		n += j.UnbanAll(ctx)
	}
	return n
}

// Expired routes the scheduler's due keys to their jails.
func (js Jails) Expired(ctx context.Context, keys []Key) {
	byJail := map[string][]string{}
	for _, k := range keys {
		byJail[k.Jail] = append(byJail[k.Jail], k.ID)
	}
	for name, ids := range byJail {
		if j, ok := js.Get(name); ok {
			j.Expired(ctx, ids)
		}
	}
}
