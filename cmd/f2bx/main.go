// Command f2bx is a drop-in replacement for fail2ban.
package main

import (
	"fmt"
	"os"
)

func main() {
	root := newRootCmd(os.Stdout, os.Stderr)
	if isFail2banClient(os.Args[0]) {
		// Run as fail2ban-client (a symlink): its command line as is.
		root.SetArgs(append([]string{"client"}, os.Args[1:]...))
	}
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "f2bx:", err)
		os.Exit(exitCode(err))
	}
}
