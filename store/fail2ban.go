package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Fail2banDB is fail2ban's own database (fail2ban.sqlite3), opened read-only.
type Fail2banDB struct {
	Store
	// Version is fail2ban's schema version (4 for fail2ban 0.11 and later).
	Version int
}

// OpenFail2ban opens fail2ban's database read-only. Versions before 4 have
// no bips table and are refused: fail2ban upgrades them on its next start.
func OpenFail2ban(path string) (*Fail2banDB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, fmt.Errorf("open fail2ban database %s: %w", path, err)
	}
	f := &Fail2banDB{Store: Store{db: db, path: path}}
	if err := db.QueryRow("SELECT version FROM fail2banDb LIMIT 1").Scan(&f.Version); err != nil {
		db.Close()
		return nil, fmt.Errorf("open fail2ban database %s: not a fail2ban database: %w", path, err)
	}
	if f.Version < 4 {
		db.Close()
		return nil, fmt.Errorf("open fail2ban database %s: schema version %d; start fail2ban once to upgrade it to 4", path, f.Version)
	}
	return f, nil
}

// Import returns fail2ban's bans that are still running at now, and every
// id's ban history for the ban counts, ready for AddBans. jailBanTime
// gives a jail's ban time for rows fail2ban stored without one.
func (f *Fail2banDB) Import(ctx context.Context, now float64, jailBanTime func(jail string) float64) (current, history []Ban, err error) {
	history, err = f.History(ctx)
	if err != nil {
		return nil, nil, err
	}
	for i := range history {
		b := &history[i]
		if b.BanTime == 0 && jailBanTime != nil {
			b.BanTime = jailBanTime(b.Jail)
		}
		if end, ok := b.End(); !ok || end > now {
			current = append(current, *b)
		}
	}
	return current, history, nil
}
