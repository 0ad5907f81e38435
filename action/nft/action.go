package nft

import (
	"context"
	"net/netip"
	"time"

	"github.com/f2bx/f2bx/jail"
)

// JailAction is the f2bx-nftables action of one jail.
type JailAction struct {
	J          *Jail
	IPv6Prefix int
	Now        func() time.Time
}

// Name is the action's name.
func (a *JailAction) Name() string { return "f2bx-nftables" }

// Start does nothing: the jail's sets exist once J does.
func (a *JailAction) Start(context.Context) error { return nil }

func (a *JailAction) prefix(tk *jail.Ticket) (netip.Prefix, bool) {
	if !tk.Addr.IsValid() {
		return netip.Prefix{}, false
	}
	addr := tk.Addr.Unmap()
	bits := addr.BitLen()
	if addr.Is6() && a.IPv6Prefix > 0 {
		bits = a.IPv6Prefix
	}
	return netip.PrefixFrom(addr, bits).Masked(), true
}

// Ban adds the batch in one transaction.
func (a *JailAction) Ban(_ context.Context, batch []*jail.Ticket) error {
	bans := make([]Ban, 0, len(batch))
	for _, tk := range batch {
		if p, ok := a.prefix(tk); ok {
			end, _ := tk.End()
			bans = append(bans, Ban{Prefix: p, End: end})
		}
	}
	return a.J.Ban(bans, a.Now())
}

// Prolong re-adds the batch with the new timeouts.
func (a *JailAction) Prolong(ctx context.Context, batch []*jail.Ticket) error {
	var ps []netip.Prefix
	for _, tk := range batch {
		if p, ok := a.prefix(tk); ok {
			ps = append(ps, p)
		}
	}
	if err := a.J.Unban(ps); err != nil {
		return err
	}
	return a.Ban(ctx, batch)
}

// Unban deletes the batch in one transaction.
func (a *JailAction) Unban(_ context.Context, batch []*jail.Ticket) error {
	var ps []netip.Prefix
	for _, tk := range batch {
		if p, ok := a.prefix(tk); ok {
			ps = append(ps, p)
		}
	}
	return a.J.Unban(ps)
}

// Flush empties the jail's sets.
func (a *JailAction) Flush(context.Context) (bool, error) { return true, a.J.Flush() }

// Stop does nothing; Table.Close removes the table.
func (a *JailAction) Stop(context.Context) error { return nil }
