// Package ignore decides which failure ids a jail never bans: fail2ban's
// ignoreip (addresses, CIDRs, DNS names, file: lists), ignoreself,
// ignorecommand and ignorecache.
package ignore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/f2bx/f2bx/filter/fields"
)

// Source says which rule ignored an id.
type Source string

// The rules, in the order they are checked.
const (
	BySelf    Source = "ignoreself rule"
	ByIP      Source = "ip"
	ByDNS     Source = "dns"
	ByFile    Source = "file"
	ByCommand Source = "command"
)

// Resolver resolves DNS names in ignoreip (net.DefaultResolver).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Config is a jail's ignore settings.
type Config struct {
	// IgnoreIP entries: addresses, CIDRs, DNS names, "file:/path" lists.
	IgnoreIP []string
	// Self ignores the host's own addresses (fail2ban's ignoreself).
	Self bool
	// Command is fail2ban's ignorecommand: exit 0 ignores, 1 does not.
	Command string
	// Cache is fail2ban's ignorecache, e.g. `key="<ip>", max-count=100,
	// max-time=5m`.
	Cache string
	// CommandTimeout bounds each run of Command (0: 60 s, as fail2ban).
	CommandTimeout time.Duration
}

// Deps are the list's collaborators.
type Deps struct {
	Resolver Resolver
	// SelfAddrs is the host's addresses (a Self watcher); required when
	// Config.Self is set.
	SelfAddrs interface{ Contains(netip.Addr) bool }
	Now       func() time.Time
}

// List answers whether an id is ignored. It is safe for concurrent use;
// the address checks take no lock.
type List struct {
	cfg   Config
	deps  Deps
	set   atomic.Pointer[set]
	files map[string]time.Time // file: entry -> mtime read
	mu    sync.Mutex           // Reload
	cache *cache
	key   string
}

// set is one immutable snapshot of the address rules.
type set struct {
	exact    map[netip.Addr]Source
	prefixes []sourced
	raw      map[string]struct{} // ids that are not addresses
}

type sourced struct {
	p   netip.Prefix
	src Source
}

// New builds the list, resolving DNS names and reading files once. When
// some entries cannot be resolved or read, it returns the list (with the
// rest) and an error naming them.
func New(ctx context.Context, c Config, d Deps) (*List, error) {
	if d.Now == nil {
		return nil, errors.New("ignore: Deps.Now is required")
	}
	if c.Self && d.SelfAddrs == nil {
		return nil, errors.New("ignore: ignoreself needs Deps.SelfAddrs")
	}
	l := &List{cfg: c, deps: d}
	if c.Cache != "" {
		key, count, maxTime, err := ParseCache(c.Cache)
		if err != nil {
			return nil, err
		}
		l.key, l.cache = key, newCache(count, maxTime, d.Now)
	} else if c.Command != "" {
		// Not fail2ban's default (it runs the command for every failure),
		// but a command per failure would stall a jail under a flood.
		l.key, l.cache = "<ip>", newCache(10000, time.Minute, d.Now)
	}
	return l, l.Reload(ctx)
}

// Reload resolves DNS names again and re-reads file: lists. A name that
// does not resolve and a file that cannot be read are reported but do not
// stop the other entries.
func (l *List) Reload(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := &set{exact: map[netip.Addr]Source{}, raw: map[string]struct{}{}}
	files := map[string]time.Time{}
	var errs []error
	for _, e := range l.cfg.IgnoreIP {
		if path, ok := strings.CutPrefix(e, "file:"); ok {
			fi, err := os.Stat(path)
			if err == nil {
				files[path] = fi.ModTime()
				err = readFile(ctx, path, s, l.deps.Resolver)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("ignoreip %s: %w", e, err))
			}
			continue
		}
		if err := s.add(ctx, e, ByIP, l.deps.Resolver); err != nil {
			errs = append(errs, err)
		}
	}
	l.files = files
	l.set.Store(s)
	if l.cache != nil {
		l.cache.clear()
	}
	return errors.Join(errs...)
}

// Refresh re-reads the file: lists whose modification time changed (the
// jail's service loop calls it every few seconds).
func (l *List) Refresh(ctx context.Context) error {
	l.mu.Lock()
	changed := false
	for path, mtime := range l.files {
		if fi, err := os.Stat(path); err != nil || !fi.ModTime().Equal(mtime) {
			changed = true
			break
		}
	}
	l.mu.Unlock()
	if !changed {
		return nil
	}
	return l.Reload(ctx)
}

func readFile(ctx context.Context, path string, s *set, r Resolver) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var errs []error
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		for _, e := range strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' }) {
			if err := s.add(ctx, e, ByFile, r); err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: %w", path, n, err))
			}
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *set) add(ctx context.Context, e string, src Source, r Resolver) error {
	e = strings.TrimSpace(e)
	if e == "" {
		return nil
	}
	if a, err := netip.ParseAddr(e); err == nil {
		s.exact[a.Unmap()] = src
		return nil
	}
	if p, err := netip.ParsePrefix(e); err == nil {
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		p = p.Masked()
		if p.IsSingleIP() {
			s.exact[p.Addr()] = src
		} else {
			s.prefixes = append(s.prefixes, sourced{p, src})
		}
		return nil
	}
	// fail2ban also compares ids that are not addresses (<F-ID>) as text.
	s.raw[e] = struct{}{}
	if r == nil || !looksLikeHost(e) {
		return nil
	}
	// A DNS name: its addresses, resolved now (and on every reload).
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", e)
	if err != nil {
		return fmt.Errorf("ignoreip %s: %w", e, err)
	}
	if src == ByIP {
		src = ByDNS
	}
	for _, a := range addrs {
		s.exact[a.Unmap()] = src
	}
	return nil
}

func looksLikeHost(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
}

// ContainsAddr reports whether an address matches ignoreself or ignoreip
// (not the command): the check the enforcement layer's allow list uses.
func (l *List) ContainsAddr(a netip.Addr) (Source, bool) {
	a = a.Unmap()
	if l.cfg.Self && l.deps.SelfAddrs.Contains(a) {
		return BySelf, true
	}
	s := l.set.Load()
	if src, ok := s.exact[a]; ok {
		return src, true
	}
	for _, p := range s.prefixes {
		if p.p.Contains(a) {
			return p.src, true
		}
	}
	return "", false
}

// Prefixes returns the static ignoreip addresses and networks.
func (l *List) Prefixes() []netip.Prefix {
	s := l.set.Load()
	var out []netip.Prefix
	for a := range s.exact {
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	for _, p := range s.prefixes {
		out = append(out, p.p)
	}
	return out
}

// Ignored reports whether a failure id is ignored and by which rule, in
// fail2ban's order: the cache, self, addresses and networks, the command.
// fields are the failure's captured fields, for the command's tags.
func (l *List) Ignored(ctx context.Context, id string, fields *fields.Set) (Source, bool) {
	a, _ := netip.ParseAddr(id)
	return l.IgnoredAddr(ctx, a, id, fields)
}

// IgnoredAddr is Ignored for an id already parsed as address a (a is the
// zero Addr for an id that is not an address).
func (l *List) IgnoredAddr(ctx context.Context, a netip.Addr, id string, fields *fields.Set) (Source, bool) {
	if l.cache == nil && l.cfg.Command == "" {
		if a.IsValid() {
			return l.ContainsAddr(a)
		}
		if _, ok := l.set.Load().raw[id]; ok {
			return ByIP, true
		}
		return "", false
	}
	var key string
	if l.cache != nil {
		key = substitute(l.key, id, fields, false)
		if v, ok := l.cache.get(key); ok {
			return v.src, v.ignored
		}
	}
	src, ok := l.check(ctx, a, id, fields)
	if l.cache != nil {
		l.cache.set(key, cached{src, ok})
	}
	return src, ok
}

func (l *List) check(ctx context.Context, a netip.Addr, id string, fields *fields.Set) (Source, bool) {
	if a.IsValid() {
		if src, ok := l.ContainsAddr(a); ok {
			return src, true
		}
	} else if _, ok := l.set.Load().raw[id]; ok {
		return ByIP, true
	}
	if l.cfg.Command == "" {
		return "", false
	}
	timeout := l.cfg.CommandTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", substitute(l.cfg.Command, id, fields, true))
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err == nil {
		return ByCommand, true
	}
	return "", false
}

// substitute replaces <ip> and <F-NAME> tags; for a shell command every
// value is quoted, so that text from a log line is never shell syntax.
func substitute(tmpl, id string, fields *fields.Set, shell bool) string {
	quote := func(s string) string {
		if shell {
			return ShellQuote(s)
		}
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '<')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.IndexByte(tmpl[i:], '>')
		if j < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		tag := tmpl[i+1 : i+j]
		b.WriteString(tmpl[:i])
		switch {
		case tag == "ip" || tag == "fid" || tag == "F-ID":
			b.WriteString(quote(id))
		case strings.HasPrefix(tag, "F-"):
			v := fields.Str(strings.ToLower(tag[2:]))
			b.WriteString(quote(v))
		default:
			b.WriteString(tmpl[i : i+j+1])
		}
		tmpl = tmpl[i+j+1:]
	}
}

// ShellQuote quotes s for /bin/sh: one single-quoted word.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// SetIgnoreIP replaces the ignoreip entries (fail2ban's addignoreip and
// delignoreip) and resolves them again.
func (l *List) SetIgnoreIP(ctx context.Context, entries []string) error {
	l.mu.Lock()
	l.cfg.IgnoreIP = append([]string(nil), entries...)
	l.mu.Unlock()
	return l.Reload(ctx)
}

// IgnoreIP returns the ignoreip entries.
func (l *List) IgnoreIP() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.cfg.IgnoreIP...)
}
