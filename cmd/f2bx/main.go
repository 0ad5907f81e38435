// Command f2bx is a drop-in replacement for fail2ban.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd(os.Stdout, os.Stderr).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "f2bx:", err)
		os.Exit(exitCode(err))
	}
}
