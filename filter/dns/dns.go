// Package dns resolves the DNS names filters find (usedns yes/warn) for the
// code around the matcher: lookups are bounded in number and time, and
// answers (failures too) are cached, so a slow or hostile DNS server cannot
// stall anything for long or be asked the same name over and over.
package dns

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Resolver resolves host names with a cache.
type Resolver struct {
	// Lookup resolves one name; net.DefaultResolver when nil.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// Timeout bounds one lookup (default 2s).
	Timeout time.Duration
	// TTL is how long an answer is kept (default 5m), NegativeTTL a failed
	// one (default 1m).
	TTL, NegativeTTL time.Duration
	// MaxEntries bounds the cache (default 10000; the oldest go first).
	MaxEntries int
	// MaxInFlight bounds concurrent lookups (default 8); past it a name
	// resolves to nothing at once.
	MaxInFlight int
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	once     sync.Once
	mu       sync.Mutex
	cache    map[string]entry
	order    []string
	inflight chan struct{}
}

type entry struct {
	addrs   []string
	expires time.Time
}

func (r *Resolver) init() {
	r.once.Do(func() {
		if r.Lookup == nil {
			r.Lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			}
		}
		if r.Timeout == 0 {
			r.Timeout = 2 * time.Second
		}
		if r.TTL == 0 {
			r.TTL = 5 * time.Minute
		}
		if r.NegativeTTL == 0 {
			r.NegativeTTL = time.Minute
		}
		if r.MaxEntries == 0 {
			r.MaxEntries = 10000
		}
		if r.MaxInFlight == 0 {
			r.MaxInFlight = 8
		}
		if r.Now == nil {
			r.Now = time.Now
		}
		r.cache = map[string]entry{}
		r.inflight = make(chan struct{}, r.MaxInFlight)
	})
}

// Resolve returns the addresses of host (an address stays itself), from
// the cache or a lookup of at most Timeout; nothing when it fails.
func (r *Resolver) Resolve(host string) []string {
	if a, err := netip.ParseAddr(host); err == nil {
		return []string{a.Unmap().String()}
	}
	r.init()
	now := r.Now()
	r.mu.Lock()
	if e, ok := r.cache[host]; ok && e.expires.After(now) {
		r.mu.Unlock()
		return e.addrs
	}
	r.mu.Unlock()
	host = strings.Clone(host) // kept in the cache; the caller's may be borrowed
	select {
	case r.inflight <- struct{}{}:
	default:
		return nil // too many lookups under way: do not wait
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.Timeout)
	addrs, err := r.Lookup(ctx, host)
	cancel()
	<-r.inflight
	var out []string
	ttl := r.NegativeTTL
	if err == nil && len(addrs) > 0 {
		ttl = r.TTL
		for _, a := range addrs {
			out = append(out, a.Unmap().String())
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.cache[host]; !ok {
		r.order = append(r.order, host)
		for len(r.order) > r.MaxEntries {
			delete(r.cache, r.order[0])
			r.order = r.order[1:]
		}
	}
	r.cache[host] = entry{addrs: out, expires: now.Add(ttl)}
	return out
}
