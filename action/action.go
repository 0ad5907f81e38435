// Package action is what enforces a jail's bans: the Action interface the
// backends implement (action/xdp, action/nft, action/command) and Set, a
// jail's actions in order, which the jail hands its bans to.
package action

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/f2bx/f2bx/jail"
)

// Action enforces one jail's bans.
type Action interface {
	// Name is the action's name in the jail (fail2ban's actname).
	Name() string
	// Start prepares the action (fail2ban's actionstart).
	Start(ctx context.Context) error
	// Ban, Unban and Prolong apply a batch of tickets. Prolong tells of a
	// ban whose end moved later.
	Ban(ctx context.Context, batch []*jail.Ticket) error
	Unban(ctx context.Context, batch []*jail.Ticket) error
	Prolong(ctx context.Context, batch []*jail.Ticket) error
	// Flush removes all of the jail's bans at once; false when the action
	// cannot, and each ban must be unbanned instead.
	Flush(ctx context.Context) (bool, error)
	// Stop ends the action (fail2ban's actionstop).
	Stop(ctx context.Context) error
}

// Set is a jail's actions, in order. It implements jail.Actions: every
// action gets every batch; one action failing does not stop the others.
type Set struct {
	Jail    string
	Actions []Action
	Log     *slog.Logger
}

func (s *Set) each(what string, fn func(Action) error) error {
	var errs []error
	for _, a := range s.Actions {
		if err := fn(a); err != nil {
			errs = append(errs, fmt.Errorf("%s %s/%s: %w", what, s.Jail, a.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Start starts every action.
func (s *Set) Start(ctx context.Context) error {
	return s.each("start", func(a Action) error { return a.Start(ctx) })
}

// Ban hands a batch to every action.
func (s *Set) Ban(ctx context.Context, batch []*jail.Ticket) error {
	return s.each("ban", func(a Action) error { return a.Ban(ctx, batch) })
}

// Unban hands a batch to every action.
func (s *Set) Unban(ctx context.Context, batch []*jail.Ticket) error {
	return s.each("unban", func(a Action) error { return a.Unban(ctx, batch) })
}

// Prolong hands a batch to every action.
func (s *Set) Prolong(ctx context.Context, batch []*jail.Ticket) error {
	return s.each("prolong", func(a Action) error { return a.Prolong(ctx, batch) })
}

// Stop removes the jail's bans (flushing where an action can, else
// unbanning the tickets given) and stops every action, in reverse order.
func (s *Set) Stop(ctx context.Context, banned []*jail.Ticket) error {
	var errs []error
	for i := len(s.Actions) - 1; i >= 0; i-- {
		a := s.Actions[i]
		ok, err := a.Flush(ctx)
		if err == nil && !ok && len(banned) > 0 {
			err = a.Unban(ctx, banned)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("flush %s/%s: %w", s.Jail, a.Name(), err))
		}
		if err := a.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s/%s: %w", s.Jail, a.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Allower is implemented by actions that keep the jail's ignored
// prefixes themselves (the XDP program's allow list), to hear when they
// change at runtime.
type Allower interface {
	SetAllow(ctx context.Context, allow []netip.Prefix) error
}

// SetAllow hands the jail's ignored prefixes to the actions that keep
// them.
func (s *Set) SetAllow(ctx context.Context, allow []netip.Prefix) error {
	var errs []error
	for _, a := range s.Actions {
		if al, ok := a.(Allower); ok {
			if err := al.SetAllow(ctx, allow); err != nil {
				errs = append(errs, fmt.Errorf("allow list %s/%s: %w", s.Jail, a.Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// Keeper is implemented by actions whose bans outlive the daemon (the XDP
// maps pinned in bpffs keep dropping while no daemon runs): a daemon that
// stops leaves them in place, and the next one adopts them.
type Keeper interface {
	KeepsBans() bool
}

// Close ends the jail's actions when the daemon stops: actions that keep
// their bans (Keeper) are left as they are unless flush is set; the others
// are flushed and stopped as Stop does (fail2ban's actionstop).
func (s *Set) Close(ctx context.Context, banned []*jail.Ticket, flush bool) error {
	if flush {
		return s.Stop(ctx, banned)
	}
	rest := &Set{Jail: s.Jail, Log: s.Log}
	for _, a := range s.Actions {
		if k, ok := a.(Keeper); ok && k.KeepsBans() {
			continue
		}
		rest.Actions = append(rest.Actions, a)
	}
	return rest.Stop(ctx, banned)
}
