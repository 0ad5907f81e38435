package logging

import (
	"log/slog"
	"sort"
	"time"
)

// limiter passes at most burst records per message in each window, and
// reports how many it held back when their window ends.
type limiter struct {
	start time.Time
	seen  map[string]*count
	// pass is the verdict of the last allow.
	pass bool
}

type count struct {
	n, held int
	level   slog.Level
	prefix  string
	msg     string
}

// maxKeys bounds the messages tracked in one window: past it the window
// restarts early (bounded memory under floods of distinct messages).
const maxKeys = 4096

// suppressedReport is a held-back count, reported when its window ends.
type suppressedReport struct {
	level       slog.Level
	prefix, msg string
	n           int
}

// allow counts a record and sets pass; it returns the held-back counts of
// the window that just ended, if one did.
func (l *limiter) allow(level slog.Level, prefix, msg string, now time.Time, burst int, window time.Duration) []suppressedReport {
	var out []suppressedReport
	if now.Sub(l.start) >= window || now.Before(l.start) || len(l.seen) >= maxKeys {
		for _, c := range l.seen {
			if c.held > 0 {
				out = append(out, suppressedReport{c.level, c.prefix, c.msg, c.held})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].prefix+out[i].msg < out[j].prefix+out[j].msg })
		l.seen = map[string]*count{}
		l.start = now
	}
	key := LevelName(level) + "\x00" + prefix + "\x00" + msg
	c := l.seen[key]
	if c == nil {
		c = &count{level: level, prefix: prefix, msg: msg}
		l.seen[key] = c
	}
	c.n++
	l.pass = c.n <= burst
	if !l.pass {
		c.held++
	}
	return out
}
