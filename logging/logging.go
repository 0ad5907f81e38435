// Package logging writes the daemon's log as fail2ban does: its line layout
// ("2024-05-01 12:00:00,123 f2bx.jail [42]: NOTICE  [sshd] Ban 192.0.2.1"),
// its level names and its targets (STDERR, STDOUT, SYSLOG, SYSTEMD-JOURNAL
// or a file), with a rate limit so that a flood of identical messages
// cannot flood the log.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// Levels fail2ban has that slog lacks.
const (
	LevelNotice   = slog.LevelInfo + 2
	LevelCritical = slog.LevelError + 4
	LevelTrace    = slog.LevelDebug - 4
)

// ParseLevel reads fail2ban's loglevel: a name (CRITICAL, ERROR, WARNING,
// NOTICE, INFO, DEBUG, TRACEDEBUG, HEAVYDEBUG) or Python's number.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "CRITICAL", "50":
		return LevelCritical, nil
	case "ERROR", "40":
		return slog.LevelError, nil
	case "WARNING", "WARN", "30":
		return slog.LevelWarn, nil
	case "NOTICE", "25":
		return LevelNotice, nil
	case "INFO", "20", "":
		return slog.LevelInfo, nil
	case "DEBUG", "10":
		return slog.LevelDebug, nil
	case "TRACEDEBUG", "HEAVYDEBUG", "7", "5":
		return LevelTrace, nil
	}
	return 0, fmt.Errorf("loglevel %q: want CRITICAL, ERROR, WARNING, NOTICE, INFO or DEBUG", s)
}

// LevelName is fail2ban's name of a level.
func LevelName(l slog.Level) string {
	switch {
	case l >= LevelCritical:
		return "CRITICAL"
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= LevelNotice:
		return "NOTICE"
	case l >= slog.LevelInfo:
		return "INFO"
	case l >= slog.LevelDebug:
		return "DEBUG"
	}
	return "TRACEDEBUG"
}

// Options configure a Handler.
type Options struct {
	Level slog.Leveler
	// Now stamps the lines; time.Now when nil.
	Now func() time.Time
	// NoTime leaves the date out (the journal and syslog add their own).
	NoTime bool
	// PID is written after the logger name; os.Getpid() when 0.
	PID int
	// Burst is how many records with the same message are written per
	// Window (default 20 per second); the rest are counted and reported
	// once the window is over.
	Burst  int
	Window time.Duration
}

// Handler is a slog.Handler writing fail2ban's log lines.
type Handler struct {
	out    *output
	opts   Options
	attrs  []slog.Attr
	group  string
	prefix string // "[jail] " once a jail attribute is set
}

// output is shared by a handler and those derived from it (WithAttrs):
// changing the level or the target changes them all.
type output struct {
	level  slog.LevelVar
	mu     sync.Mutex
	w      io.Writer
	closer io.Closer
	target string
	noTime bool // the target stamps lines itself (journal, syslog)
	lim    limiter
}

// New returns a handler writing to w.
func New(w io.Writer, o Options) *Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PID == 0 {
		o.PID = os.Getpid()
	}
	if o.Level == nil {
		o.Level = slog.LevelInfo
	}
	if o.Burst <= 0 {
		o.Burst = 20
	}
	if o.Window <= 0 {
		o.Window = time.Second
	}
	h := &Handler{out: &output{w: w, noTime: o.NoTime, lim: limiter{seen: map[string]*count{}}}, opts: o}
	h.out.level.Set(o.Level.Level())
	return h
}

// Open returns a handler for fail2ban's logtarget: STDERR, STDOUT, SYSOUT,
// SYSLOG, SYSTEMD-JOURNAL or a file path (appended to). Close closes the
// file.
func Open(target string, o Options) (*Handler, error) {
	w, closer, noTime, err := openTarget(target)
	if err != nil {
		return nil, err
	}
	h := New(w, o)
	h.out.closer, h.out.target, h.out.noTime = closer, target, o.NoTime || noTime
	return h, nil
}

func openTarget(target string) (w io.Writer, closer io.Closer, noTime bool, err error) {
	switch t := strings.ToUpper(strings.TrimSpace(target)); {
	case t == "" || t == "STDERR":
		return os.Stderr, nil, false, nil
	case t == "STDOUT" || t == "SYSOUT":
		return os.Stdout, nil, false, nil
	case t == "SYSTEMD-JOURNAL" || t == "SYSLOG" || strings.HasPrefix(t, "SYSLOG["):
		// Under systemd, stderr goes to the journal, which stamps each
		// line itself.
		return os.Stderr, nil, true, nil
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, nil, false, fmt.Errorf("open log target: %w", err)
	}
	return f, f, false, nil
}

// Close closes the log file, if the handler opened one.
func (h *Handler) Close() error {
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	if h.out.closer != nil {
		return h.out.closer.Close()
	}
	return nil
}

// SetLevel changes the level of h and of the handlers derived from it.
func (h *Handler) SetLevel(l slog.Level) { h.out.level.Set(l) }

// Level is the level logged from.
func (h *Handler) Level() slog.Level { return h.out.level.Level() }

// SetTarget moves the log to another target (as Open takes it), closing
// the previous file; on error the log stays where it was. A file target
// is also how a rotated log file is reopened.
func (h *Handler) SetTarget(target string) error {
	w, closer, noTime, err := openTarget(target)
	if err != nil {
		return err
	}
	o := h.out
	o.mu.Lock()
	old := o.closer
	o.w, o.closer, o.target, o.noTime = w, closer, target, noTime || h.opts.NoTime
	o.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

// Reopen opens a file target again (after logrotate moved it) and reports
// true; stream targets (stderr, the journal) have nothing to reopen.
func (h *Handler) Reopen() (bool, error) {
	h.out.mu.Lock()
	file, target := h.out.closer != nil, h.out.target
	h.out.mu.Unlock()
	if !file {
		return false, nil
	}
	return true, h.SetTarget(target)
}

// Target is the log target as set ("STDERR" when none was).
func (h *Handler) Target() string {
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	if h.out.target == "" {
		return "STDERR"
	}
	return h.out.target
}

// Enabled reports whether l is logged.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.out.level.Level()
}

// WithAttrs returns a handler adding attrs. As fail2ban writes its
// messages, a "jail" attribute becomes the "[jail] " prefix, an "id"
// follows the message and a "-" attribute follows it after " - "
// ("[sshd] Found 192.0.2.1 - 2026-11-22 10:00:00").
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range attrs {
		if a.Key == "jail" && h.group == "" {
			c.prefix = "[" + a.Value.String() + "] "
			continue
		}
		if h.group != "" {
			a.Key = h.group + "." + a.Key
		}
		c.attrs = append(c.attrs, a)
	}
	return &c
}

// WithGroup returns a handler that qualifies later keys with name.
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}

// Handle writes one record, unless the rate limit holds it back: the
// limit is checked before the line is formatted, so that a flood of
// held-back records costs little.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	now := h.opts.Now()
	prefix := h.prefix
	var id, when slog.Value // the zero Value writes nothing
	haveID := false
	var rest []slog.Attr
	collect := func(a slog.Attr) bool {
		switch {
		case a.Key == "jail" && h.group == "":
			prefix = "[" + a.Value.String() + "] "
		case a.Key == "id" && !haveID && h.group == "":
			id, haveID = a.Value, true
		case a.Key == "-" && h.group == "":
			when = a.Value
		default:
			rest = append(rest, a)
		}
		return true
	}
	for _, a := range h.attrs {
		collect(a)
	}
	r.Attrs(collect)

	o := h.out
	o.mu.Lock()
	defer o.mu.Unlock()
	suppressed := o.lim.allow(r.Level, prefix, r.Message, now, h.opts.Burst, h.opts.Window)
	for _, s := range suppressed {
		o.write(h.line(now, s.level, fmt.Sprintf("%s%d more %q messages suppressed in the last %v", s.prefix, s.n, s.msg, h.opts.Window)))
	}
	if !o.lim.pass {
		return nil
	}
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString(r.Message)
	if v := text(id); v != "" {
		b.WriteByte(' ')
		b.WriteString(v)
	}
	if v := text(when); v != "" {
		b.WriteString(" - ")
		b.WriteString(v)
	}
	for _, a := range rest {
		if a.Value.Kind() == slog.KindGroup {
			continue
		}
		fmt.Fprintf(&b, " %s=%s", a.Key, quote(text(a.Value)))
	}
	return o.write(h.line(now, r.Level, b.String()))
}

// text writes a value; times as fail2ban writes them.
func text(v slog.Value) string {
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().Format("2006-01-02 15:04:05")
	case slog.KindAny:
		if v.Any() == nil {
			return ""
		}
	}
	return v.String()
}

func (o *output) write(line string) error {
	_, err := io.WriteString(o.w, line)
	return err
}

func (h *Handler) line(now time.Time, l slog.Level, msg string) string {
	var b strings.Builder
	if !h.out.noTime {
		b.WriteString(now.Format("2006-01-02 15:04:05"))
		fmt.Fprintf(&b, ",%03d ", now.Nanosecond()/1e6)
	}
	fmt.Fprintf(&b, "f2bx [%d]: %-8s %s\n", h.opts.PID, LevelName(l), msg)
	return b.String()
}

// quote leaves simple values bare and quotes the rest, so a log line's
// text (attacker-controlled) cannot fake another record.
func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\r\n\"=\\") {
		return s
	}
	return fmt.Sprintf("%q", s)
}
