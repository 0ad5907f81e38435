package jail

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// rules are the settings an administrator can change while the jail runs
// (fail2ban-client set JAIL maxretry|findtime|bantime).
type rules struct {
	maxRetry atomic.Int64
	findTime atomic.Int64 // nanoseconds
	banTime  atomic.Int64 // nanoseconds; negative: permanent
}

func (r *rules) set(maxRetry int, findTime, banTime time.Duration) {
	r.maxRetry.Store(int64(maxRetry))
	r.findTime.Store(int64(findTime))
	r.banTime.Store(int64(banTime))
}

// MaxRetry is the number of failures that bans.
func (j *Jail) MaxRetry() int { return int(j.rules.maxRetry.Load()) }

// FindTime is the window failures are counted in.
func (j *Jail) FindTime() time.Duration { return time.Duration(j.rules.findTime.Load()) }

// BanTime is how long a ban lasts (before bantime.increment); negative for
// a permanent ban.
func (j *Jail) BanTime() time.Duration { return time.Duration(j.rules.banTime.Load()) }

// SetMaxRetry changes maxretry; failures already counted stay.
func (j *Jail) SetMaxRetry(n int) error {
	if n <= 0 {
		return fmt.Errorf("jail %s: maxretry must be above 0, not %d", j.cfg.Name, n)
	}
	j.rules.maxRetry.Store(int64(n))
	j.applyRules()
	return nil
}

// SetFindTime changes findtime.
func (j *Jail) SetFindTime(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("jail %s: findtime must be above 0, not %v", j.cfg.Name, d)
	}
	j.rules.findTime.Store(int64(d))
	j.applyRules()
	return nil
}

// SetBanTime changes the ban time of later bans (negative: permanent).
func (j *Jail) SetBanTime(d time.Duration) {
	j.rules.banTime.Store(int64(d))
}

func (j *Jail) applyRules() {
	n, ft := j.MaxRetry(), j.FindTime().Seconds()
	j.addrs.SetRules(n, ft, j.cfg.MaxMatches)
	j.other.SetRules(n, ft, j.cfg.MaxMatches)
}

// levelNotice is fail2ban's NOTICE, the level of its Ban and Unban lines.
const levelNotice = slog.LevelInfo + 2
