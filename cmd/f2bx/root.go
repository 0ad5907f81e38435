package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return 1
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "f2bx",
		Short: "f2bx bans addresses that show malicious signs in log files, like fail2ban, at line rate",
		Long: `f2bx reads log files, finds failures with fail2ban-compatible filters and bans
the offending addresses, by default in an XDP program in front of the network
stack. It reads fail2ban's configuration (/etc/fail2ban) unchanged, or its own
TOML configuration (/etc/f2bx), or the defaults embedded in the binary.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var test bool
	var cf confFlags
	root.Flags().BoolVarP(&test, "test", "t", false, "test the configuration and exit (as config test)")
	cf.register(root)
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if test {
			return runConfigTest(cmd, cf)
		}
		return cmd.Help()
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newVersionCmd(), newConfigCmd(), newRegexCmd(), newRingCmd(), newStartCmd(), newMigrateCmd())
	root.AddCommand(newClientCmds()...)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "f2bx %s\n", version)
		},
	}
}
