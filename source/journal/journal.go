// Package journal reads the systemd journal for a jail (backend =
// systemd): it runs "journalctl -f -o json" with the jail's journalmatch
// (fail2ban's syntax: a "+" between groups means OR), formats each entry
// as fail2ban does ("HOST IDENT[PID]: MESSAGE", the time from the entry),
// and resumes after the last cursor handed on.
package journal

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/f2bx/f2bx/source"
)

// Options configure a Reader.
type Options struct {
	// Matches are the jail's journalmatch lines, each a list of
	// FIELD=value terms (and "+" for OR).
	Matches [][]string
	// Cursor is where to resume (after it); "" starts at the journal's
	// end.
	Cursor string
	// Command is journalctl's path (default "journalctl").
	Command string
	// Batch caps the lines of one batch (default 1024); a batch is also
	// sent when journalctl has nothing more for now.
	Batch int
	Log   *slog.Logger
}

// Args are journalctl's arguments for o.
func (o Options) Args() []string {
	args := []string{"--follow", "--output=json", "--no-pager", "--quiet"}
	if o.Cursor != "" {
		args = append(args, "--after-cursor="+o.Cursor)
	} else {
		args = append(args, "--lines=0")
	}
	for i, m := range o.Matches {
		if i > 0 {
			args = append(args, "+")
		}
		args = append(args, m...)
	}
	return args
}

// Run follows the journal until ctx ends, sending batches (with their
// cursor) to out; the cursor of the last batch sent is where the next
// Run resumes. It returns journalctl's failure, if it fails.
func Run(ctx context.Context, o Options, out chan<- source.Batch) error {
	if o.Command == "" {
		o.Command = "journalctl"
	}
	if o.Batch <= 0 {
		o.Batch = 1024
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	cmd := exec.CommandContext(ctx, o.Command, o.Args()...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	entries := make(chan entry, o.Batch)
	readErr := make(chan error, 1)
	go func() { readErr <- decode(stdout, entries, o.Log) }()
	var b source.Batch
	flush := func() error {
		if len(b.Lines) == 0 {
			return nil
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		b = source.Batch{}
		return nil
	}
	for {
		var e entry
		ok := false
		select {
		case e, ok = <-entries:
		default:
			// Nothing waiting: hand on what there is, then wait.
			if flush() == nil {
				select {
				case e, ok = <-entries:
				case <-ctx.Done():
				}
			}
		}
		if !ok || ctx.Err() != nil {
			if ctx.Err() == nil {
				flush()
			}
			for range entries { // journalctl was killed or ended: let decode finish
			}
			err := <-readErr
			werr := cmd.Wait()
			if ctx.Err() != nil {
				return nil
			}
			if werr != nil {
				return fmt.Errorf("journal: %s: %w: %s", o.Command, werr, strings.TrimSpace(stderr.String()))
			}
			return err
		}
		b.Source = "journal"
		b.Lines = append(b.Lines, e.line)
		b.Times = append(b.Times, e.time)
		b.Cursor = e.cursor
		if len(b.Lines) >= o.Batch {
			flush() // fails only when ctx ended, seen above next time
		}
	}
}

type entry struct {
	line   string
	time   time.Time
	cursor string
}

// decode reads journalctl's JSON lines; a line it cannot decode is
// logged and skipped.
func decode(r io.Reader, out chan<- entry, log *slog.Logger) error {
	defer close(out)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &fields); err != nil {
			log.Warn("journal: undecodable entry", "err", err)
			continue
		}
		e, ok := format(fields)
		if !ok {
			continue
		}
		out <- e
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// value decodes a journal field: a string, bytes as an array of numbers
// (not UTF-8), or an array of those (the field given more than once,
// joined with spaces as fail2ban joins them).
func value(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var nums []byte
	var ints []int
	if json.Unmarshal(raw, &ints) == nil {
		for _, n := range ints {
			nums = append(nums, byte(n))
		}
		return string(nums), true
	}
	var many []json.RawMessage
	if json.Unmarshal(raw, &many) == nil {
		var parts []string
		for _, m := range many {
			if v, ok := value(m); ok {
				parts = append(parts, v)
			}
		}
		return strings.Join(parts, " "), len(parts) > 0
	}
	return "", false
}

// format builds fail2ban's line for an entry.
func format(f map[string]json.RawMessage) (entry, bool) {
	get := func(k string) string { v, _ := value(f[k]); return v }
	var e entry
	e.cursor = get("__CURSOR")
	us, err := strconv.ParseInt(get("__REALTIME_TIMESTAMP"), 10, 64)
	if err != nil {
		return e, false
	}
	e.time = time.UnixMicro(us)
	var parts []string
	if h := get("_HOSTNAME"); h != "" {
		parts = append(parts, h)
	}
	ident := get("SYSLOG_IDENTIFIER")
	if ident == "" {
		ident = get("_COMM")
	}
	if ident != "" {
		pid := get("SYSLOG_PID")
		if pid == "" {
			pid = get("_PID")
		}
		if pid != "" {
			if n, err := strconv.ParseInt(pid, 0, 64); err == nil {
				pid = strconv.FormatInt(n, 10)
			}
			ident += "[" + pid + "]"
		}
		ident += ":"
		parts = append(parts, ident)
		if ident == "kernel:" {
			mono := get("_SOURCE_MONOTONIC_TIMESTAMP")
			if mono == "" {
				mono = get("__MONOTONIC_TIMESTAMP")
			}
			if n, err := strconv.ParseInt(mono, 10, 64); err == nil {
				parts = append(parts, fmt.Sprintf("[%12.6f]", float64(n)/1e6))
			}
		}
	}
	parts = append(parts, get("MESSAGE"))
	e.line = strings.ReplaceAll(strings.Join(parts, " "), "\n", `\n`)
	return e, true
}
