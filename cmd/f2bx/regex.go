package main

import (
	"os"

	"github.com/f2bx/f2bx"
	"github.com/f2bx/f2bx/config/load"
	"github.com/f2bx/f2bx/config/native"
	"github.com/f2bx/f2bx/filter/regextest"
	"github.com/f2bx/f2bx/internal/gctune"
	"github.com/spf13/cobra"
)

func newRegexCmd() *cobra.Command {
	var o regextest.Options
	cmd := &cobra.Command{
		Use:   "regex [OPTIONS] LOG REGEX [IGNOREREGEX]",
		Short: "Test a filter or regex on a log file or line, like fail2ban-regex",
		Long: `Test a filter or regex on a log file or line, like fail2ban-regex.

LOG is a log file or a log line. REGEX is a filter name with options
("sshd[mode=aggressive]", looked up in the fail2ban directory -c, then in f2bx's
own filters), a filter file, or a regex. The report has fail2ban-regex's
sections, plus lines/s and the engine each regex runs on: re2, or regexp2 for
the lookarounds, backreferences and conditionals RE2 lacks; in a build with
PCRE2, both run on its JIT where it gives the same matches.`,
		Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			ignore := ""
			if len(args) == 3 {
				ignore = args[2]
			}
			o.Native = []native.Layer{{Name: "embedded", FS: f2bx.Defaults}}
			if load.Kind(load.NativeDir) == load.KindNative {
				o.Native = append(o.Native, native.Layer{Name: load.NativeDir, FS: os.DirFS(load.NativeDir)})
			}
			if st, err := os.Stderr.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 && o.Out == "" && !o.JSON {
				o.Progress = cmd.ErrOrStderr()
			}
			defer gctune.Start(0).Stop()
			return regextest.Run(args[0], args[1], ignore, o, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.ConfDir, "config", "c", "/etc/fail2ban", "fail2ban configuration directory")
	fl.StringVarP(&o.DatePattern, "datepattern", "d", "", "date pattern overriding the filter's")
	fl.StringVar(&o.TimeZone, "timezone", "", "time zone of log times without one (UTC, +0200, ...)")
	fl.StringVar(&o.TimeZone, "TZ", "", "same as --timezone")
	fl.BoolVarP(&o.Raw, "raw", "r", false, "do not resolve DNS names")
	fl.StringVar(&o.UseDNS, "usedns", "", "yes, warn, no or raw (overrides the filter's)")
	fl.IntVarP(&o.MaxLines, "maxlines", "L", 0, "lines to buffer for multi-line regexes")
	fl.StringVarP(&o.JournalMatch, "journalmatch", "m", "", "journal match (accepted; the journal is not read here)")
	fl.StringVarP(&o.Out, "out", "o", "", "print only: id, fid, ip, msg, row, or a field (user, F-NAME, ...)")
	fl.BoolVar(&o.NoCheckAll, "no-check-all", false, "stop at the first matching failregex")
	fl.BoolVar(&o.PrintNoMissed, "print-no-missed", false, "do not print missed lines")
	fl.BoolVar(&o.PrintNoIgnored, "print-no-ignored", false, "do not print ignored lines")
	fl.BoolVar(&o.PrintAllMatched, "print-all-matched", false, "print all matched lines")
	fl.BoolVar(&o.PrintAllMissed, "print-all-missed", false, "print all missed lines")
	fl.BoolVar(&o.PrintAllIgnored, "print-all-ignored", false, "print all ignored lines")
	fl.CountVarP(&o.Verbose, "verbose", "v", "list every regex and date template")
	fl.BoolVar(&o.JSON, "json", false, "print the report as JSON")
	return cmd
}
