package nft

import (
	"context"
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
	return a.J.Ban(jail.PrefixBans(batch, a.IPv6Prefix), a.Now())
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
	return a.J.Unban(jail.Prefixes(batch, a.IPv6Prefix))
}

// Flush empties the jail's sets.
func (a *JailAction) Flush(context.Context) (bool, error) { return true, a.J.Flush() }

// Stop does nothing; Table.Close removes the table.
func (a *JailAction) Stop(context.Context) error { return nil }
