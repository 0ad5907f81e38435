package ignore

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2bx/f2bx/clock"
	"github.com/f2bx/f2bx/filter/fields"
)

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

type addrSet map[netip.Addr]bool

func (s addrSet) Contains(a netip.Addr) bool { return s[a] }

func newList(t *testing.T, c Config, r fakeResolver) *List {
	t.Helper()
	l, err := New(context.Background(), c, Deps{Resolver: r, SelfAddrs: addrSet{netip.MustParseAddr("203.0.113.5"): true}, Now: clock.NewFake(time.Unix(0, 0)).Now})
	if l == nil {
		t.Fatal(err)
	}
	return l
}

func TestIgnoreIP(t *testing.T) {
	r := fakeResolver{"gw.example.org": {netip.MustParseAddr("198.51.100.9"), netip.MustParseAddr("2001:db8::9")}}
	l := newList(t, Config{IgnoreIP: []string{"127.0.0.1/8", "::1", "192.0.2.0/24", "2001:db8:1::/48", "gw.example.org", "10.1.2.3", "alice", "::ffff:172.16.0.0/108"}, Self: true}, r)
	cases := map[string]Source{
		"127.9.9.9": ByIP, "::1": ByIP, "192.0.2.200": ByIP, "2001:db8:1:ffff::1": ByIP,
		"198.51.100.9": ByDNS, "2001:db8::9": ByDNS, "10.1.2.3": ByIP, "::ffff:10.1.2.3": ByIP,
		"alice": ByIP, "203.0.113.5": BySelf, "172.16.5.5": ByIP,
		"192.0.3.1": "", "2001:db8:2::1": "", "10.1.2.4": "", "bob": "", "172.32.0.1": "",
	}
	for id, want := range cases {
		src, ok := l.Ignored(context.Background(), id, nil)
		if ok != (want != "") || src != want {
			t.Errorf("%s: %q %v, want %q", id, src, ok, want)
		}
	}
}

func TestUnresolvableNameReported(t *testing.T) {
	l, err := New(context.Background(), Config{IgnoreIP: []string{"nowhere.invalid", "192.0.2.1"}}, Deps{Resolver: fakeResolver{}, Now: time.Now})
	if err == nil || !strings.Contains(err.Error(), "nowhere.invalid") {
		t.Fatalf("error %v for a name that does not resolve", err)
	}
	if _, ok := l.Ignored(context.Background(), "192.0.2.1", nil); !ok {
		t.Fatal("the other entries were lost")
	}
}

func TestFileListReloadsOnChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ignore.txt")
	os.WriteFile(path, []byte("# trusted\n192.0.2.1 192.0.2.2, 10.0.0.0/8 # office\n"), 0o644)
	l := newList(t, Config{IgnoreIP: []string{"file:" + path}}, nil)
	if src, ok := l.Ignored(context.Background(), "10.9.9.9", nil); !ok || src != ByFile {
		t.Fatalf("file entry: %q %v", src, ok)
	}
	os.WriteFile(path, []byte("192.0.2.3\n"), 0o644)
	os.Chtimes(path, time.Now().Add(time.Minute), time.Now().Add(time.Minute))
	if err := l.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Ignored(context.Background(), "10.9.9.9", nil); ok {
		t.Fatal("removed entry still ignored")
	}
	if _, ok := l.Ignored(context.Background(), "192.0.2.3", nil); !ok {
		t.Fatal("new entry not ignored")
	}
}

func TestIgnoreCommandQuotesAndCaches(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "calls")
	// The command records its argument and ignores 192.0.2.1 only.
	cmd := `printf '%s\n' <ip> <F-USER> >>` + log + `; test <ip> = 192.0.2.1`
	c := clock.NewFake(time.Unix(0, 0))
	l, err := New(context.Background(), Config{Command: cmd, Cache: `key="<ip>", max-count=10, max-time=1m`},
		Deps{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	evil := fields.Of(map[string]any{"user": "x'; touch " + filepath.Join(dir, "pwned") + "; echo '"})
	if _, ok := l.Ignored(ctx, "192.0.2.1", evil); !ok {
		t.Fatal("command said ignore")
	}
	if _, ok := l.Ignored(ctx, "192.0.2.2", nil); ok {
		t.Fatal("command said do not ignore")
	}
	l.Ignored(ctx, "192.0.2.1", nil) // cached
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Fatal("a user name ran as shell syntax")
	}
	calls, _ := os.ReadFile(log)
	want := "192.0.2.1\nx'; touch " + filepath.Join(dir, "pwned") + "; echo '\n192.0.2.2\n\n"
	if string(calls) != want {
		t.Fatalf("calls %q, want %q", calls, want)
	}
	c.Advance(time.Minute)
	l.Ignored(ctx, "192.0.2.1", nil) // expired: runs again
	calls, _ = os.ReadFile(log)
	if len(calls) == len(want) {
		t.Fatal("cache did not expire")
	}
}

func TestParseCache(t *testing.T) {
	key, n, d, err := ParseCache(`key="<ip>:<F-USER>", max-count=5, max-time=1h`)
	if err != nil || key != "<ip>:<F-USER>" || n != 5 || d != time.Hour {
		t.Fatalf("%q %d %v %v", key, n, d, err)
	}
	if _, _, _, err := ParseCache(`max-count=x`); err == nil {
		t.Fatal("bad max-count accepted")
	}
}
