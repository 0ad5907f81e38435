package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/f2bx/f2bx/config/load"
	"github.com/f2bx/f2bx/control"
	"github.com/spf13/cobra"
)

// newClientCmd is fail2ban-client: its options and its commands, with its
// output, so that scripts written for fail2ban keep working. A symlink
// named fail2ban-client to f2bx runs it too.
func newClientCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "client [fail2ban-client OPTIONS] COMMAND...",
		Short:              "Run a fail2ban-client command line (the fail2ban-client symlink runs this)",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFail2banClient(cmd, args)
		},
	}
}

// isFail2banClient reports whether f2bx was run as fail2ban-client.
func isFail2banClient(argv0 string) bool {
	return strings.HasPrefix(filepath.Base(argv0), "fail2ban-client")
}

// fail2banClientOpts are fail2ban-client's options that matter here.
type fail2banClientOpts struct {
	conf, socket, pidfile string
	timeout               time.Duration
	quiet                 bool
	force                 bool
}

// parseFail2banClient splits fail2ban-client's options from its command.
func parseFail2banClient(args []string) (fail2banClientOpts, []string, error) {
	o := fail2banClientOpts{timeout: 30 * time.Second}
	valued := map[string]*string{"-c": &o.conf, "--conf": &o.conf, "-s": &o.socket, "--socket": &o.socket, "-p": &o.pidfile, "--pidfile": &o.pidfile}
	ignoredValued := map[string]bool{"--loglevel": true, "--logtarget": true, "--syslogsocket": true, "--pname": true}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "--all" {
			break
		}
		name, val, hasVal := strings.Cut(a, "=")
		switch {
		case valued[name] != nil || ignoredValued[name] || name == "--timeout":
			if !hasVal {
				if i+1 >= len(args) {
					return o, nil, fmt.Errorf("option %s needs a value", name)
				}
				i++
				val = args[i]
			}
			if name == "--timeout" {
				d, err := time.ParseDuration(val + "s")
				if err != nil {
					return o, nil, fmt.Errorf("--timeout %q: %v", val, err)
				}
				o.timeout = d
			} else if p := valued[name]; p != nil {
				*p = val
			}
		case a == "-q":
			o.quiet = true
		case a == "-x":
			o.force = true
		case a == "-v", a == "-vv", a == "-d", a == "--dp", a == "--dump-pretty", a == "-i", a == "-f", a == "-b", a == "--async", a == "-t", a == "--test":
			// verbosity, dump, interactive and start options: nothing to do
		case a == "--":
			i++
			return o, args[i:], nil
		default:
			return o, nil, fmt.Errorf("unknown option %s", a)
		}
	}
	return o, args[i:], nil
}

func runFail2banClient(cmd *cobra.Command, args []string) error {
	out := cmd.OutOrStdout()
	for _, a := range args {
		switch a {
		case "-h", "--help":
			fail2banClientUsage(out)
			return nil
		case "-V", "--version":
			fmt.Fprintf(out, "f2bx %s (fail2ban-client compatible)\n", version)
			return nil
		}
	}
	o, words, err := parseFail2banClient(args)
	if err != nil {
		return &exitError{code: 255, msg: err.Error()}
	}
	if len(words) == 0 {
		fail2banClientUsage(out)
		return &exitError{code: 255, msg: "no command"}
	}
	sock := o.socket
	if sock == "" && o.conf != "" {
		if res, err := load.Load(load.Options{Dir: o.conf, AllowNoFiles: true}); err == nil {
			sock = res.Config.Server.Socket
		}
	}
	if sock == "" {
		sock = defaultSocket()
	}
	c := control.Client{Socket: sock, Timeout: o.timeout}
	switch words[0] {
	case "start", "restart":
		sf := serverFlags{socket: sock, pidfile: o.pidfile, force: o.force}
		sf.conf.dir = o.conf
		if words[0] == "restart" {
			if r, err := c.Call("stop"); err == nil && r.OK {
				waitGone(c, 60*time.Second)
			}
		} else if r, err := c.Call("ping"); err == nil && r.OK {
			return &exitError{code: 255, msg: "Server already running"}
		}
		return startBackground(cmd, sf)
	case "stop":
		if len(words) == 1 {
			r, err := c.Call("stop")
			if err != nil {
				return &exitError{code: 255, msg: err.Error()}
			}
			if !r.OK {
				return &exitError{code: 255, msg: r.Error}
			}
			waitGone(c, o.timeout)
			fmt.Fprintln(out, "Shutdown successful")
			return nil
		}
	}
	if o.quiet {
		cmd.SetOut(io.Discard)
	}
	return call(cmd, c, words...)
}

func fail2banClientUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: fail2ban-client [OPTIONS] <COMMAND>

f2bx answers fail2ban-client's commands with fail2ban-client's output.

Options:
    -c, --conf <DIR>        configuration directory (to find the socket)
    -s, --socket <FILE>     socket path
    -p, --pidfile <FILE>    pidfile path
    --timeout <SECONDS>     timeout of a command
    -q                      print nothing but errors
    -x                      force: remove a stale socket on start
    -h, --help              this help
    -V, --version           the version

Commands:
    start | stop | restart | reload [JAIL] [--unban] | ping | version
    status [JAIL] | banned [IP...] | unban --all | unban IP...
    set JAIL banip|unbanip IP... | set JAIL maxretry|findtime|bantime VALUE
    set JAIL addignoreip|delignoreip IP
    get JAIL banned [IP...] | get JAIL banip [--with-time|SEP]
    get JAIL maxretry|findtime|bantime|ignoreip|logpath|journalmatch|failregex|actions|...
    get loglevel|logtarget|dbfile|dbpurgeage
`)
}
