package dns

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

func TestResolveCachesAndBounds(t *testing.T) {
	var calls atomic.Int32
	now := time.Unix(1000, 0)
	r := &Resolver{
		Now: func() time.Time { return now },
		Lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
			calls.Add(1)
			switch host {
			case "ok.example":
				return []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("::ffff:192.0.2.2")}, nil
			case "slow.example":
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return nil, errors.New("NXDOMAIN")
		},
		Timeout: 50 * time.Millisecond,
	}
	if got := r.Resolve("ok.example"); len(got) != 2 || got[1] != "192.0.2.2" {
		t.Errorf("ok.example: %v", got)
	}
	r.Resolve("ok.example")
	if calls.Load() != 1 {
		t.Errorf("%d lookups, want 1 (cached)", calls.Load())
	}
	if got := r.Resolve("192.0.2.9"); len(got) != 1 || calls.Load() != 1 {
		t.Errorf("an address is not looked up: %v", got)
	}
	start := time.Now()
	if got := r.Resolve("slow.example"); got != nil {
		t.Errorf("slow.example: %v", got)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("a slow lookup was not cut at the timeout")
	}
	r.Resolve("nx.example")
	r.Resolve("nx.example")
	if calls.Load() != 3 {
		t.Errorf("%d lookups, want 3 (the failure cached)", calls.Load())
	}
	now = now.Add(2 * time.Minute) // past the negative TTL
	r.Resolve("nx.example")
	if calls.Load() != 4 {
		t.Errorf("%d lookups, want 4 (negative answer expired)", calls.Load())
	}
}

func TestResolveCacheIsBounded(t *testing.T) {
	r := &Resolver{MaxEntries: 3, Lookup: func(context.Context, string) ([]netip.Addr, error) { return nil, errors.New("x") }}
	for _, h := range []string{"a", "b", "c", "d", "e"} {
		r.Resolve(h)
	}
	if len(r.cache) != 3 || len(r.order) != 3 {
		t.Errorf("cache holds %d, want 3", len(r.cache))
	}
}
