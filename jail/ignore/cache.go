package ignore

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/fail2ban"
)

// ParseCache reads fail2ban's ignorecache value: `key="<ip>",
// max-count=100, max-time=5m` (fail2ban's defaults for the counts).
func ParseCache(v string) (key string, count int, maxTime time.Duration, err error) {
	_, opts, err := fail2ban.ExtractOptions("cache[" + v + "]")
	if err != nil {
		return "", 0, 0, fmt.Errorf("ignorecache %q: %w", v, err)
	}
	key, count, maxTime = "<ip>", 100, 5*time.Minute
	for _, k := range opts.Keys() {
		val := opts.Str(k)
		switch k {
		case "key":
			key = val
		case "max-count":
			if count, err = strconv.Atoi(strings.TrimSpace(val)); err != nil || count <= 0 {
				return "", 0, 0, fmt.Errorf("ignorecache: max-count %q is not a positive number", val)
			}
		case "max-time":
			secs, err := config.ParseSeconds(val)
			if err != nil {
				return "", 0, 0, fmt.Errorf("ignorecache: max-time %q: %w", val, err)
			}
			maxTime = time.Duration(secs * float64(time.Second))
		default:
			return "", 0, 0, fmt.Errorf("ignorecache: unknown option %q", k)
		}
	}
	return key, count, maxTime, nil
}

type cached struct {
	src     Source
	ignored bool
}

// cache holds ignore decisions for maxTime, at most max of them; when
// full, the oldest is dropped.
type cache struct {
	mu      sync.Mutex
	max     int
	maxTime time.Duration
	now     func() time.Time
	m       map[string]cacheEntry
	order   []string
}

type cacheEntry struct {
	v       cached
	expires time.Time
}

func newCache(max int, maxTime time.Duration, now func() time.Time) *cache {
	return &cache{max: max, maxTime: maxTime, now: now, m: map[string]cacheEntry{}}
}

func (c *cache) get(k string) (cached, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || !c.now().Before(e.expires) {
		return cached{}, false
	}
	return e.v, true
}

func (c *cache) set(k string, v cached) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok {
		for len(c.m) >= c.max && len(c.order) > 0 {
			delete(c.m, c.order[0])
			c.order = c.order[1:]
		}
		c.order = append(c.order, k)
	}
	c.m[k] = cacheEntry{v, c.now().Add(c.maxTime)}
}

func (c *cache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m, c.order = map[string]cacheEntry{}, nil
}
