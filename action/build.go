package action

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"time"

	"github.com/f2bx/f2bx/action/command"
	"github.com/f2bx/f2bx/action/nft"
	"github.com/f2bx/f2bx/action/xdp"
	"github.com/f2bx/f2bx/config"
)

// Backends are the shared enforcement backends Build hands jails to. XDP
// and NFT are called for each jail that uses them, with the action's
// options, and return the one shared blacklist or table.
type Backends struct {
	XDP    func(opts map[string]string) (*xdp.Blacklist, error)
	NFT    func(opts map[string]string) (*nft.Table, error)
	Merged command.Merged
	Now    func() time.Time
	Log    *slog.Logger
}

// Build makes a jail's actions from its configuration; allow are the
// jail's ignoreip/ignoreself prefixes (never dropped by f2bx-xdp).
func Build(j *config.Jail, allow []netip.Prefix, b Backends) (*Set, error) {
	if b.Now == nil {
		b.Now = time.Now
	}
	if b.Log == nil {
		b.Log = slog.New(slog.DiscardHandler)
	}
	s := &Set{Jail: j.Name, Log: b.Log}
	for _, a := range j.Actions {
		opts := map[string]string{}
		for _, o := range a.Options {
			opts[o.Key] = o.Value
		}
		v6 := 0
		if p := opts["ipv6prefix"]; p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 128 {
				return nil, fmt.Errorf("jail %s: action %s: ipv6prefix %q is not a prefix length", j.Name, a.Name, p)
			}
			v6 = n
		}
		switch {
		case a.Backend() == config.BackendXDP:
			if b.XDP == nil {
				return nil, fmt.Errorf("jail %s: f2bx-xdp is not available here", j.Name)
			}
			bl, err := b.XDP(opts)
			if err != nil {
				return nil, fmt.Errorf("jail %s: f2bx-xdp: %w", j.Name, err)
			}
			s.Actions = append(s.Actions, &xdp.JailAction{B: bl, Jail: j.Name, Allow: allow, IPv6Prefix: v6, Now: b.Now})
		case a.Backend() == config.BackendNftables:
			if b.NFT == nil {
				return nil, fmt.Errorf("jail %s: f2bx-nftables is not available here", j.Name)
			}
			t, err := b.NFT(opts)
			if err != nil {
				return nil, fmt.Errorf("jail %s: f2bx-nftables: %w", j.Name, err)
			}
			nj, err := t.Jail(j.Name)
			if err != nil {
				return nil, fmt.Errorf("jail %s: %w", j.Name, err)
			}
			s.Actions = append(s.Actions, &nft.JailAction{J: nj, IPv6Prefix: v6, Now: b.Now})
		case a.PythonPath != "":
			return nil, fmt.Errorf("jail %s: action %s is a Python action (%s); f2bx runs action.d command actions and its own backends only", j.Name, a.Name, a.PythonPath)
		default:
			c, err := command.New(command.Config{Jail: j.Name, Action: a, BanTime: j.BanTime.Seconds(), Merged: b.Merged, Now: b.Now, Log: b.Log})
			if err != nil {
				return nil, fmt.Errorf("jail %s: %w", j.Name, err)
			}
			s.Actions = append(s.Actions, c)
		}
	}
	return s, nil
}
