// Package control is the daemon's control socket: a Unix socket (mode 0600,
// peers checked by their credentials) carrying one JSON request and one JSON
// response per line. Requests are fail2ban-client's commands as word lists
// (["status", "sshd"], ["set", "sshd", "banip", "192.0.2.1"]); responses
// carry fail2ban's return values, which the client prints as
// fail2ban-client does.
package control

import (
	"encoding/json"
	"errors"
	"fmt"
)

// DefaultSocket is where the daemon listens.
const DefaultSocket = "/run/f2bx/f2bx.sock"

// Request is one command.
type Request struct {
	Cmd []string `json:"cmd"`
}

// Response is a command's result: Value on success, else Error and its Kind.
type Response struct {
	OK    bool            `json:"ok"`
	Value json.RawMessage `json:"value,omitempty"`
	Error string          `json:"error,omitempty"`
	Kind  string          `json:"kind,omitempty"`
}

// Error kinds, as fail2ban's client tells them apart.
const (
	KindUnknownJail = "unknown-jail"
	KindInvalid     = "invalid"
	KindDenied      = "denied"
)

// Error is a command that failed.
type Error struct {
	Kind string
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// UnknownJail is the error for a jail that does not exist.
func UnknownJail(name string) error {
	return &Error{Kind: KindUnknownJail, Msg: name}
}

// Invalid is the error for a command the daemon does not understand.
func Invalid(format string, args ...any) error {
	return &Error{Kind: KindInvalid, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns an error's kind ("" for a plain error).
func KindOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// Pairs is fail2ban's list of (name, value) tuples, as status returns it.
// It is written as a JSON array of two-element arrays, in order.
type Pairs []Pair

// Pair is one name and its value.
type Pair struct {
	Key   string
	Value any
}

// MarshalJSON writes the pair as [key, value].
func (p Pair) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{p.Key, p.Value})
}

// BannedRow is one ban as "f2bx banned" lists it: its jail(s), its end,
// and what the XDP program dropped for it.
type BannedRow struct {
	ID    string   `json:"id"`
	Jails []string `json:"jails"`
	// End is RFC 3339; empty for a ban without end.
	End      string `json:"end,omitempty"`
	Packets  uint64 `json:"packets"`
	Bytes    uint64 `json:"bytes"`
	LastDrop string `json:"last_drop,omitempty"`
	// Enforced says the ban is in the XDP map.
	Enforced bool `json:"enforced"`
}
