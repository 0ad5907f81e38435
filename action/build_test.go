package action

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/f2bx/f2bx/action/xdp"
	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/internal/packet"
	"github.com/f2bx/f2bx/jail"
)

func TestBuildCommandAndErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	echo := config.Action{Name: "echo"}
	echo.Set("actionban", "echo ban <ip> >> "+out)
	j := &config.Jail{Name: "sshd", BanTime: config.DurationOf(600), Actions: []config.Action{echo}}
	s, err := Build(j, nil, Backends{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tk := &jail.Ticket{Jail: "sshd", ID: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"), BanTime: 600}
	if err := s.Ban(ctx, []*jail.Ticket{tk}); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); strings.TrimSpace(string(b)) != "ban 192.0.2.1" {
		t.Errorf("command action wrote %q", b)
	}
	xdpAct := config.Action{Name: "f2bx-xdp"}
	xdpAct.Set(config.BackendOption, config.BackendXDP)
	for name, acts := range map[string][]config.Action{
		"python":         {{Name: "smtp", PythonPath: "/etc/fail2ban/action.d/smtp.py"}},
		"no xdp backend": {xdpAct},
	} {
		if _, err := Build(&config.Jail{Name: "x", Actions: acts}, nil, Backends{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	failing := Backends{XDP: func(map[string]string) (*xdp.Blacklist, error) { return nil, errors.New("no bpf") }}
	if _, err := Build(&config.Jail{Name: "x", Actions: []config.Action{xdpAct}}, nil, failing); err == nil || !strings.Contains(err.Error(), "no bpf") {
		t.Errorf("backend error lost: %v", err)
	}
}

// TestBuildXDP: a jail with f2bx-xdp and ipv6prefix=64 bans through the
// loaded program; its allow list wins.
func TestBuildXDP(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to load BPF programs")
	}
	bl, err := xdp.Open(xdp.Options{MaxBans4: 1024, MaxBans6: 1024, MaxPrefixes: 64})
	if errors.Is(err, ebpf.ErrNotSupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Close()
	a := config.Action{Name: "f2bx-xdp"}
	a.Set(config.BackendOption, config.BackendXDP)
	a.Set("ipv6prefix", "64")
	j := &config.Jail{Name: "sshd", Actions: []config.Action{a}}
	s, err := Build(j, []netip.Prefix{netip.MustParsePrefix("192.0.2.0/28")}, Backends{XDP: func(map[string]string) (*xdp.Blacklist, error) { return bl, nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	now := float64(time.Now().Unix())
	var batch []*jail.Ticket
	for _, ip := range []string{"192.0.2.5", "198.51.100.5", "2001:db8:1:2::5"} {
		batch = append(batch, &jail.Ticket{Jail: "sshd", ID: ip, Addr: netip.MustParseAddr(ip), Time: now, BanTime: 600})
	}
	if err := s.Ban(ctx, batch); err != nil {
		t.Fatal(err)
	}
	verdict := func(src string) uint32 {
		s := netip.MustParseAddr(src)
		d := netip.MustParseAddr("192.0.2.200")
		if s.Is6() {
			d = netip.MustParseAddr("2001:db8::1")
		}
		ret, err := bl.Program().Run(&ebpf.RunOptions{Data: packet.Frame{Src: s, Dst: d, SrcPort: 1, DstPort: 2}.Bytes()})
		if err != nil {
			t.Fatal(err)
		}
		return ret
	}
	for src, want := range map[string]uint32{"192.0.2.5": 2, "198.51.100.5": 1, "2001:db8:1:2::99": 1, "2001:db8:1:3::5": 2} {
		if got := verdict(src); got != want {
			t.Errorf("%s: verdict %d, want %d", src, got, want)
		}
	}
	// ignoreip changed at runtime: the allow list follows.
	if err := s.SetAllow(ctx, []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}); err != nil {
		t.Fatal(err)
	}
	for src, want := range map[string]uint32{"192.0.2.5": 1, "198.51.100.5": 2} {
		if got := verdict(src); got != want {
			t.Errorf("after SetAllow: %s: verdict %d, want %d", src, got, want)
		}
	}
	if err := s.Stop(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := verdict("198.51.100.5"); got != 2 {
		t.Errorf("after stop (flush): verdict %d, want pass", got)
	}
}
