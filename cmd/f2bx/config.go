package main

import (
	"fmt"

	"github.com/f2bx/f2bx/config/fail2ban"
	"github.com/spf13/cobra"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Load, check and print the configuration",
	}
	var dir string
	dump := &cobra.Command{
		Use:   "dump",
		Short: "Print the resolved configuration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := fail2ban.Read(dir, fail2ban.Options{AllowNoFiles: true})
			if err != nil {
				return err
			}
			for _, w := range res.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "WARNING", w)
			}
			for _, e := range res.Errors {
				fmt.Fprintln(cmd.ErrOrStderr(), "ERROR", e)
			}
			for _, c := range res.Stream {
				fmt.Fprintln(cmd.OutOrStdout(), c)
			}
			return nil
		},
	}
	dump.Flags().StringVarP(&dir, "fail2ban-dir", "c", "/etc/fail2ban", "fail2ban configuration directory")
	cmd.AddCommand(dump)
	return cmd
}
