// Package store keeps bans and log positions in an embedded SQLite
// database (modernc.org/sqlite, no cgo) so that a restart loses neither.
// The ban tables have fail2ban's layout (schema version 4: bans, bips,
// jails), so that fail2ban's database can be read with the same queries.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// DefaultPath is where the daemon keeps its database.
const DefaultPath = "/var/lib/f2bx/f2bx.db"

// Ban is one ban as stored: fail2ban's bans/bips row.
type Ban struct {
	Jail string
	// ID is the banned address (or <F-ID> text).
	ID string
	// Time is the ticket time, the log time of the last failure (Unix
	// seconds, rounded as fail2ban stores it).
	Time int64
	// BanTime is in seconds, -1 for a permanent ban.
	BanTime float64
	// Count is how many times the id has been banned in this jail.
	Count int
	// Data is fail2ban's ticket data: "matches", "failures", fields.
	Data map[string]any
}

// End is when the ban ends (Unix seconds); false for a permanent ban.
func (b Ban) End() (float64, bool) {
	if b.BanTime < 0 {
		return 0, false
	}
	return float64(b.Time) + b.BanTime, true
}

// Store is an open database.
type Store struct {
	db   *sql.DB
	path string
}

const schema = `
CREATE TABLE IF NOT EXISTS fail2banDb(version INTEGER);
CREATE TABLE IF NOT EXISTS jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL,
	bantime INTEGER NOT NULL, bancount INTEGER NOT NULL DEFAULT 1, data JSON);
CREATE INDEX IF NOT EXISTS bans_jail_timeofban_ip ON bans(jail, timeofban);
CREATE INDEX IF NOT EXISTS bans_jail_ip ON bans(jail, ip);
CREATE INDEX IF NOT EXISTS bans_ip ON bans(ip);
CREATE TABLE IF NOT EXISTS bips(ip TEXT NOT NULL, jail TEXT NOT NULL, timeofban INTEGER NOT NULL,
	bantime INTEGER NOT NULL, bancount INTEGER NOT NULL DEFAULT 1, data JSON, PRIMARY KEY(ip, jail));
CREATE INDEX IF NOT EXISTS bips_timeofban ON bips(timeofban);
CREATE INDEX IF NOT EXISTS bips_ip ON bips(ip);
CREATE TABLE IF NOT EXISTS f2bx_positions(path TEXT PRIMARY KEY, inode INTEGER NOT NULL,
	offset INTEGER NOT NULL, firstline TEXT NOT NULL, updated INTEGER NOT NULL);
`

// Open opens (creating when needed) the database at path.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// One connection: SQLite writes one at a time anyway, and the writer
	// batches.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path}
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM fail2banDb").Scan(&n); err == nil && n == 0 {
		db.Exec("INSERT INTO fail2banDb(version) VALUES(4)")
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// AddBans records bans in one transaction: the history (bans) and the
// latest ban per jail and id (bips). It yields the processor after each
// ban (see yield).
func (s *Store) AddBans(ctx context.Context, bans []Ban) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		jails := map[string]bool{}
		insBan, err := tx.PrepareContext(ctx, "INSERT INTO bans(jail, ip, timeofban, bantime, bancount, data) VALUES(?, ?, ?, ?, ?, ?)")
		if err != nil {
			return err
		}
		insBip, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO bips(ip, jail, timeofban, bantime, bancount, data) VALUES(?, ?, ?, ?, ?, ?)")
		if err != nil {
			return err
		}
		for _, b := range bans {
			if !jails[b.Jail] {
				jails[b.Jail] = true
				if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO jails(name, enabled) VALUES(?, 1)", b.Jail); err != nil {
					return err
				}
			}
			data, err := json.Marshal(b.Data)
			if err != nil {
				return fmt.Errorf("ban %s: %w", b.ID, err)
			}
			bt := int64(b.BanTime)
			if _, err := insBan.ExecContext(ctx, b.Jail, b.ID, b.Time, bt, b.Count, string(data)); err != nil {
				return err
			}
			if _, err := insBip.ExecContext(ctx, b.ID, b.Jail, b.Time, bt, b.Count, string(data)); err != nil {
				return err
			}
			yield()
		}
		return nil
	})
}

// DelBans forgets the bans of ids in a jail (all of the jail's when ids
// is empty), as fail2ban does on a manual unban. It yields the processor
// after each id (see yield).
func (s *Store) DelBans(ctx context.Context, jail string, ids []string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if len(ids) == 0 {
			for _, q := range []string{"DELETE FROM bips WHERE jail = ?", "DELETE FROM bans WHERE jail = ?"} {
				if _, err := tx.ExecContext(ctx, q, jail); err != nil {
					return err
				}
			}
			return nil
		}
		for _, id := range ids {
			for _, q := range []string{"DELETE FROM bips WHERE jail = ? AND ip = ?", "DELETE FROM bans WHERE jail = ? AND ip = ?"} {
				if _, err := tx.ExecContext(ctx, q, jail, id); err != nil {
					return err
				}
			}
			yield()
		}
		return nil
	})
}

// yield lets other goroutines run between the rows of a long write: the
// SQLite driver is Go code, and writing a ban takes about 20 µs here, so
// a burst of a few hundred bans written at once would hold a processor
// for milliseconds. On a daemon with one processor (GOMAXPROCS 1, as on a
// one-CPU host), that would stall the goroutines that filter lines and
// carry out bans, during the very flood that brought the bans.
func yield() { runtime.Gosched() }

// CurrentBans returns the bans still running at now (permanent ones
// too), the latest per id, for one jail or (jail "") every jail.
func (s *Store) CurrentBans(ctx context.Context, jail string, now float64) ([]Ban, error) {
	q := "SELECT jail, ip, timeofban, bantime, bancount, data FROM bips WHERE (timeofban + bantime > ? OR bantime <= -1)"
	args := []any{now}
	if jail != "" {
		q += " AND jail = ?"
		args = append(args, jail)
	}
	return s.query(ctx, q+" ORDER BY jail, ip", args...)
}

// History returns every jail's latest ban per id (bips), expired ones
// too: the ban counts bantime.increment needs.
func (s *Store) History(ctx context.Context) ([]Ban, error) {
	return s.query(ctx, "SELECT jail, ip, timeofban, bantime, bancount, data FROM bips")
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]Ban, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read bans from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []Ban
	for rows.Next() {
		var b Ban
		var bantime int64
		var data sql.NullString
		if err := rows.Scan(&b.Jail, &b.ID, &b.Time, &bantime, &b.Count, &data); err != nil {
			return nil, fmt.Errorf("read bans from %s: %w", s.path, err)
		}
		b.BanTime = float64(bantime)
		if bantime == -2 {
			// fail2ban's pre-version-4 rows: the jail's ban time applies.
			b.BanTime = 0
		}
		if data.Valid && data.String != "" {
			// A row whose data is not JSON keeps its ban; only the data
			// is lost.
			json.Unmarshal([]byte(data.String), &b.Data)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// Purge deletes bans older than age seconds, and ids whose last ban
// ended long ago (fail2ban's purge: three times the ban time); permanent
// bans stay.
func (s *Store) Purge(ctx context.Context, now, age float64) error {
	limit := int64(now - age)
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM bans WHERE timeofban < ?", limit); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM bips WHERE timeofban < ? AND bantime != -1 AND (timeofban + bantime * 3) < ?", limit, limit)
		return err
	})
}

// Position is where a log file was read up to.
type Position struct {
	Path   string
	Inode  uint64
	Offset int64
	// FirstLine is a hash of the file's first line: a file replaced by
	// another with the same inode is not resumed.
	FirstLine string
}

// SavePositions records log positions in one transaction.
func (s *Store) SavePositions(ctx context.Context, now int64, ps []Position) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO f2bx_positions(path, inode, offset, firstline, updated) VALUES(?, ?, ?, ?, ?)")
		if err != nil {
			return err
		}
		for _, p := range ps {
			if _, err := st.ExecContext(ctx, p.Path, int64(p.Inode), p.Offset, p.FirstLine, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// Position returns the stored position of a log file.
func (s *Store) Position(ctx context.Context, path string) (Position, bool, error) {
	p := Position{Path: path}
	var inode int64
	err := s.db.QueryRowContext(ctx, "SELECT inode, offset, firstline FROM f2bx_positions WHERE path = ?", path).Scan(&inode, &p.Offset, &p.FirstLine)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	p.Inode = uint64(inode)
	return p, err == nil, err
}

func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return nil
}
