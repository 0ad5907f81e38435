package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/f2bx/f2bx/action/xdp"
	"github.com/f2bx/f2bx/control"
	"github.com/spf13/cobra"
)

// fail2banSocket is where fail2ban's configuration puts the socket; a
// daemon started on /etc/fail2ban listens there.
const fail2banSocket = "/run/fail2ban/fail2ban.sock"

// defaultSocket is $F2BX_SOCKET, else f2bx's socket, else fail2ban's when
// only that one exists.
func defaultSocket() string {
	if s := os.Getenv("F2BX_SOCKET"); s != "" {
		return s
	}
	if _, err := os.Stat(control.DefaultSocket); err != nil {
		if _, err := os.Stat(fail2banSocket); err == nil {
			return fail2banSocket
		}
	}
	return control.DefaultSocket
}

// clientFlags are the flags of the commands that talk to the daemon.
type clientFlags struct {
	socket  string
	timeout time.Duration
}

func (f *clientFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.socket, "socket", "s", "", "control socket (default /run/f2bx/f2bx.sock)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 30*time.Second, "how long to wait for the daemon's answer")
}

func (f *clientFlags) client() control.Client {
	s := f.socket
	if s == "" {
		s = defaultSocket()
	}
	return control.Client{Socket: s, Timeout: f.timeout}
}

// call sends a fail2ban command and prints the answer as fail2ban-client
// does: the beautified value on stdout, an error as "ERROR  ..." with exit
// status 255.
func call(cmd *cobra.Command, c control.Client, words ...string) error {
	r, err := c.Call(words...)
	if err != nil {
		return &exitError{code: 255, msg: err.Error()}
	}
	out := cmd.OutOrStdout()
	if !r.OK {
		fmt.Fprintln(out, control.BeautifyError(r))
		return &exitError{code: 255, msg: "NOK: " + r.Error}
	}
	v, err := control.Decode(r.Value)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, control.Beautify(words, v))
	return nil
}

// callRaw sends a command and returns the successful response, or the
// error fail2ban-client would exit with.
func callRaw(c control.Client, words ...string) (control.Response, error) {
	r, err := c.Call(words...)
	if err != nil {
		return r, &exitError{code: 255, msg: err.Error()}
	}
	if !r.OK {
		return r, &exitError{code: 255, msg: control.BeautifyError(r)}
	}
	return r, nil
}

// simpleCmd is a client command that sends prefix + args.
func simpleCmd(use, short string, args cobra.PositionalArgs, words func(args []string) []string) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{Use: use, Short: short, Args: args,
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, f.client(), words(args)...)
		}}
	f.register(cmd)
	return cmd
}

func newStatusCmd() *cobra.Command {
	var f clientFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [JAIL]",
		Short: "Show the jails, or one jail's failures and bans (fail2ban-client's layout)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			words := append([]string{"status"}, args...)
			if !asJSON {
				return call(cmd, f.client(), words...)
			}
			r, err := callRaw(f.client(), words...)
			if err != nil {
				return err
			}
			v, err := control.Decode(r.Value)
			if err != nil {
				return err
			}
			b, err := control.StatusJSON(v)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	f.register(cmd)
	return cmd
}

func newBannedCmd() *cobra.Command {
	var f clientFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "banned [IP...]",
		Short: "List the bans with their XDP drop counters",
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := callRaw(f.client(), append([]string{"xdp-banned"}, args...)...)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				fmt.Fprintln(out, string(r.Value))
				return nil
			}
			var rows []control.BannedRow
			if err := json.Unmarshal(r.Value, &rows); err != nil {
				return err
			}
			return printBanned(out, rows)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	f.register(cmd)
	return cmd
}

func printBanned(out io.Writer, rows []control.BannedRow) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ADDRESS\tJAIL\tENDS\tXDP\tPACKETS\tBYTES\tLAST DROP")
	for _, r := range rows {
		ends, xdpState, last := r.End, "no", r.LastDrop
		if ends == "" {
			ends = "never"
		}
		if r.Enforced {
			xdpState = "yes"
		}
		if last == "" {
			last = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", r.ID, strings.Join(r.Jails, ","), ends, xdpState, r.Packets, r.Bytes, last)
	}
	return w.Flush()
}

func newStopCmd() *cobra.Command {
	var f clientFlags
	var flush bool
	cmd := &cobra.Command{
		Use:   "stop [JAIL]",
		Short: "Stop the daemon (XDP bans keep dropping until the next start; --flush removes them), or one jail",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := f.client()
			if len(args) == 1 {
				// One jail: its bans are lifted, and kept in the database.
				return call(cmd, c, "stop", args[0])
			}
			words := []string{"stop"}
			if flush {
				words = append(words, "--flush")
			}
			r, err := c.Call(words...)
			if errors.Is(err, control.ErrNotRunning) && flush {
				// No daemon (it crashed): remove what it left in the kernel.
				if err := xdp.FlushPinned(xdp.DefaultPinDir); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "Flushed the pinned XDP program and bans")
				return nil
			}
			if err != nil {
				return &exitError{code: 255, msg: err.Error()}
			}
			if !r.OK {
				return &exitError{code: 255, msg: r.Error}
			}
			waitGone(c, f.timeout)
			fmt.Fprintln(cmd.OutOrStdout(), "Shutdown successful")
			return nil
		},
	}
	cmd.Flags().BoolVar(&flush, "flush", false, "also remove the bans and the XDP program from the kernel")
	f.register(cmd)
	return cmd
}

// waitGone waits until the daemon no longer answers.
func waitGone(c control.Client, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if _, err := (control.Client{Socket: c.Socket, Timeout: time.Second}).Call("ping"); err != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newReloadCmd() *cobra.Command {
	var f clientFlags
	var restart, unban, all bool
	cmd := &cobra.Command{
		Use:   "reload [JAIL]",
		Short: "Load the configuration again; no ban and no line is lost",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			words := append([]string{"reload"}, args...)
			if restart {
				words = append(words, "--restart")
			}
			if unban {
				words = append(words, "--unban")
			}
			if all {
				words = append(words, "--all")
			}
			return call(cmd, f.client(), words...)
		},
	}
	cmd.Flags().BoolVar(&restart, "restart", false, "restart the jails")
	cmd.Flags().BoolVar(&unban, "unban", false, "unban every address first")
	cmd.Flags().BoolVar(&all, "all", false, "reload every jail")
	f.register(cmd)
	return cmd
}

func newRestartCmd() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "restart",
		Short: "Stop the daemon and start it again (bans are restored)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := control.Client{Socket: firstOf(f.socket, defaultSocket()), Timeout: 30 * time.Second}
			if r, err := c.Call("stop"); err == nil && r.OK {
				waitGone(c, 60*time.Second)
			}
			return startBackground(cmd, f)
		},
	}
	f.register(cmd)
	return cmd
}

func newClientCmds() []*cobra.Command {
	return []*cobra.Command{
		newStatusCmd(), newBannedCmd(), newStopCmd(), newReloadCmd(), newRestartCmd(),
		simpleCmd("ping", "Check that the daemon answers", cobra.NoArgs, func([]string) []string { return []string{"ping"} }),
		simpleCmd("ban JAIL IP...", "Ban addresses in a jail now", cobra.MinimumNArgs(2), func(a []string) []string {
			return append([]string{"set", a[0], "banip"}, a[1:]...)
		}),
		newUnbanCmd(),
		simpleCmd("get JAIL OPTION", "Show a jail's setting (maxretry, findtime, bantime, ignoreip, banned, ...)", cobra.MinimumNArgs(1), func(a []string) []string {
			return append([]string{"get"}, a...)
		}),
		simpleCmd("set JAIL OPTION VALUE...", "Change a jail's setting while it runs (maxretry, findtime, bantime, addignoreip, ...)", cobra.MinimumNArgs(3), func(a []string) []string {
			return append([]string{"set"}, a...)
		}),
		newClientCmd(),
	}
}

func newUnbanCmd() *cobra.Command {
	var f clientFlags
	var all bool
	cmd := &cobra.Command{
		Use:   "unban IP...|--all",
		Short: "Lift bans in every jail",
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return errors.New("give addresses or --all")
			}
			if all {
				args = []string{"--all"}
			}
			return call(cmd, f.client(), append([]string{"unban"}, args...)...)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "lift every ban")
	f.register(cmd)
	return cmd
}
