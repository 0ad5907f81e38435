package xdp

import (
	"context"
	"net/netip"
	"time"

	"github.com/f2bx/f2bx/jail"
)

// JailAction is one jail's view of the blacklist: the f2bx-xdp action.
type JailAction struct {
	B    *Blacklist
	Jail string
	// Allow are the jail's ignoreip/ignoreself prefixes, never dropped.
	Allow []netip.Prefix
	// IPv6Prefix, when set (e.g. 64), bans the whole prefix of an IPv6
	// address.
	IPv6Prefix int
	Now        func() time.Time
}

// Name is the action's name.
func (a *JailAction) Name() string { return "f2bx-xdp" }

// Start puts the jail's allow list into the maps.
func (a *JailAction) Start(context.Context) error { return a.B.SetAllow(a.Jail, a.Allow) }

// SetAllow replaces the jail's allow list (ignoreip changed at runtime);
// action.Allower.
func (a *JailAction) SetAllow(_ context.Context, allow []netip.Prefix) error {
	a.Allow = allow
	return a.B.SetAllow(a.Jail, allow)
}

// Ban writes the batch into the maps.
func (a *JailAction) Ban(_ context.Context, batch []*jail.Ticket) error {
	return a.B.Ban(a.Jail, jail.PrefixBans(batch, a.IPv6Prefix), a.Now())
}

// Prolong moves the ends of bans in the maps.
func (a *JailAction) Prolong(ctx context.Context, batch []*jail.Ticket) error {
	return a.Ban(ctx, batch)
}

// Unban removes the batch from the maps (unless another jail holds it).
func (a *JailAction) Unban(_ context.Context, batch []*jail.Ticket) error {
	return a.B.Unban(a.Jail, jail.Prefixes(batch, a.IPv6Prefix))
}

// Flush releases every ban the jail holds.
func (a *JailAction) Flush(context.Context) (bool, error) {
	return true, a.B.Release(a.Jail)
}

// Stop does nothing: the program and its maps stay pinned so that bans
// keep dropping until the next daemon adopts them.
func (a *JailAction) Stop(context.Context) error { return nil }

// KeepsBans reports that the bans stay in the pinned maps when the daemon
// stops (action.Keeper).
func (a *JailAction) KeepsBans() bool { return a.B.Pinned() }
