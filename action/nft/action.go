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

// Ban adds the batch in one transaction.
func (a *JailAction) Ban(_ context.Context, batch []*jail.Ticket) error {
	bans := make([]Ban, 0, len(batch))
	for _, tk := range batch {
		if p, ok := tk.Prefix(a.IPv6Prefix); ok {
			end, _ := tk.End()
			bans = append(bans, Ban{Prefix: p, End: end})
		}
	}
	return a.J.Ban(bans, a.Now())
}

// Prolong re-adds the batch with the new timeouts (adding an element that
// exists keeps its old timeout).
func (a *JailAction) Prolong(ctx context.Context, batch []*jail.Ticket) error {
	if err := a.Unban(ctx, batch); err != nil {
		return err
	}
	return a.Ban(ctx, batch)
}

// Unban deletes the batch in one transaction.
func (a *JailAction) Unban(_ context.Context, batch []*jail.Ticket) error {
	ps := make([]netip.Prefix, 0, len(batch))
	for _, tk := range batch {
		if p, ok := tk.Prefix(a.IPv6Prefix); ok {
			ps = append(ps, p)
		}
	}
	return a.J.Unban(ps)
}

// Flush empties the jail's sets.
func (a *JailAction) Flush(context.Context) (bool, error) { return true, a.J.Flush() }

// Stop does nothing; Table.Close removes the table.
func (a *JailAction) Stop(context.Context) error { return nil }
