package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/load"
	"github.com/spf13/cobra"
)

// confFlags are the flags of every command that reads configuration.
type confFlags struct {
	dir string
}

func (f *confFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.dir, "conf", "c", "", "configuration directory, fail2ban's or f2bx's (default: /etc/f2bx, else /etc/fail2ban, else the embedded defaults)")
	cmd.Flags().StringVar(&f.dir, "fail2ban-dir", "", "same as --conf")
}

func (f *confFlags) load(allowNoFiles bool) (*load.Result, error) {
	return load.Load(load.Options{Dir: f.dir, AllowNoFiles: allowNoFiles})
}

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Load, check and print the configuration",
	}
	cmd.AddCommand(newConfigDumpCmd(), newConfigTestCmd())
	return cmd
}

func newConfigDumpCmd() *cobra.Command {
	var (
		cf     confFlags
		stream bool
		asJSON bool
		jail   string
	)
	cmd := &cobra.Command{
		Use:   "dump",
		Short: "Print the resolved configuration",
		Long: `Print the resolved configuration: with --stream as the command stream that
"fail2ban-client -d" prints (one Python list per line, identical for a fail2ban
directory), with --json as the resolved jails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if stream == asJSON {
				return fmt.Errorf("give one of --stream and --json")
			}
			res, err := cf.load(true)
			if err != nil {
				return err
			}
			printProblems(cmd.ErrOrStderr(), res.Config)
			out := cmd.OutOrStdout()
			if stream {
				cmds := res.Stream
				if cmds == nil {
					cmds = res.Config.Stream(filepath.Glob)
				}
				for _, c := range cmds {
					fmt.Fprintln(out, c)
				}
				return nil
			}
			var v any = res.Config
			if jail != "" {
				j := res.Config.Jail(jail)
				if j == nil {
					return fmt.Errorf("no enabled jail %q", jail)
				}
				v = j
			}
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(v)
		},
	}
	cf.register(cmd)
	cmd.Flags().BoolVar(&stream, "stream", false, "print fail2ban's command stream")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the resolved configuration as JSON")
	cmd.Flags().StringVar(&jail, "jail", "", "with --json, print only this jail")
	return cmd
}

func newConfigTestCmd() *cobra.Command {
	var cf confFlags
	cmd := &cobra.Command{
		Use:     "test",
		Aliases: []string{"check"},
		Short:   "Load the configuration, print every problem, fail on errors",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConfigTest(cmd, cf)
		},
	}
	cf.register(cmd)
	return cmd
}

func runConfigTest(cmd *cobra.Command, cf confFlags) error {
	res, err := cf.load(false)
	if err != nil {
		return err
	}
	c := res.Config
	printProblems(cmd.ErrOrStderr(), c)
	where := c.Source.Kind
	if c.Source.Dir != "" {
		where += " configuration in " + c.Source.Dir
	} else {
		where += " defaults"
	}
	names := make([]string, 0, len(c.Jails))
	for _, j := range c.Jails {
		names = append(names, j.Name)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Read the %s: %d jail(s) enabled %v\n", where, len(c.Jails), names)
	if len(c.Errors) > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("configuration test failed: %d error(s)", len(c.Errors))}
	}
	fmt.Fprintln(cmd.OutOrStdout(), "OK: configuration test is successful")
	return nil
}

func printProblems(w io.Writer, c *config.Config) {
	for _, m := range c.Warnings {
		fmt.Fprintln(w, "WARNING", m)
	}
	for _, m := range c.Errors {
		fmt.Fprintln(w, "ERROR", m)
	}
}
