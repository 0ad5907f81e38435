package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/f2bx/f2bx/config/load"
	"github.com/f2bx/f2bx/migrate"
	"github.com/f2bx/f2bx/store"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// Default paths of a migration.
const (
	defaultFail2banDB = "/var/lib/fail2ban/fail2ban.sqlite3"
)

type migrateFlags struct {
	from, to, db, f2bxDB string
	dryRun, keepFirewall bool
	force, asJSON        bool
}

func newMigrateCmd() *cobra.Command {
	var f migrateFlags
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Convert a fail2ban installation (jails, filters, actions, active bans) to f2bx",
		Long: `Convert every enabled jail of a fail2ban configuration, with its filter and
actions, into f2bx's TOML (jails.d/NAME.toml, filters.d/fail2ban-NAME.toml,
f2bx.toml), and import the active bans of fail2ban's database into f2bx's.

Regexes are kept as fail2ban resolves them: f2bx runs each on RE2 (linear
time) when its Python syntax translates exactly, otherwise on regexp2 with a
match timeout, and the report says which. Packet filter actions (iptables*,
nftables*, firewallcmd*, ufw, ...) become f2bx's XDP backend, or its nftables
backend with --keep-firewall; other command actions (mail, sendmail,
abuseipdb, ...) are kept as they are. Every converted jail is loaded back and
compared with fail2ban's before anything is written. Existing files are not
overwritten without --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runMigrate(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", load.Fail2banDir, "fail2ban's configuration directory")
	fl.StringVar(&f.to, "to", load.NativeDir, "f2bx's configuration directory to write")
	fl.StringVar(&f.db, "db", defaultFail2banDB, `fail2ban's database to import active bans from ("" for none)`)
	fl.StringVar(&f.f2bxDB, "f2bx-db", "", "f2bx's database to import into, also written to f2bx.toml (default "+store.DefaultPath+")")
	fl.BoolVarP(&f.dryRun, "dry-run", "n", false, "print the report; write nothing")
	fl.BoolVar(&f.keepFirewall, "keep-firewall", false, "enforce bans with f2bx's nftables backend instead of XDP")
	fl.BoolVar(&f.force, "force", false, "overwrite existing files")
	fl.BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	return cmd
}

func runMigrate(cmd *cobra.Command, f migrateFlags) error {
	if load.Kind(f.from) != load.KindFail2ban {
		return fmt.Errorf("%s is not a fail2ban configuration (no jail.conf, jail.local or fail2ban.conf)", f.from)
	}
	res, err := load.Load(load.Options{Dir: f.from, AllowNoFiles: true})
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	bar := newProgress(stderr, "converting jails")
	plan, err := migrate.Convert(res.Config, migrate.Options{KeepFirewall: f.keepFirewall, DBFile: f.f2bxDB, Progress: bar.set})
	bar.done()
	if err != nil {
		return err
	}
	if !f.dryRun && !f.force {
		if ex := plan.Existing(f.to); len(ex) > 0 {
			return fmt.Errorf("not overwriting existing files (use --force): %s", strings.Join(ex, ", "))
		}
	}
	dbTo := f.f2bxDB
	if dbTo == "" {
		dbTo = store.DefaultPath
	}
	if f.db != "" {
		_, statErr := os.Stat(f.db)
		switch {
		case statErr == nil:
			if err := plan.ImportBans(context.Background(), f.db, dbTo, float64(time.Now().Unix()), f.dryRun); err != nil {
				return err
			}
		case errors.Is(statErr, fs.ErrNotExist) && !cmd.Flags().Changed("db"):
			plan.Server = append(plan.Server, fmt.Sprintf("no fail2ban database at %s: no bans imported", f.db))
		default:
			return fmt.Errorf("fail2ban database: %w", statErr)
		}
	}
	if !f.dryRun {
		if err := plan.Write(f.to, f.force); err != nil {
			return err
		}
	}
	out := cmd.OutOrStdout()
	if f.asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(struct {
			From   string `json:"from"`
			To     string `json:"to"`
			DryRun bool   `json:"dry_run"`
			*migrate.Plan
		}{f.from, f.to, f.dryRun, plan})
	}
	plan.WriteReport(out)
	switch {
	case f.dryRun:
		fmt.Fprintf(out, "Dry run: nothing written (%d file(s) would go to %s)\n", len(plan.Files), f.to)
	default:
		fmt.Fprintf(out, "Wrote %d file(s) to %s; check them with: f2bx config test -c %s\n", len(plan.Files), f.to, f.to)
	}
	return nil
}

// progress draws a bar on a terminal, and nothing elsewhere.
type progress struct {
	w     io.Writer
	label string
	on    bool
	drawn bool
}

func newProgress(w io.Writer, label string) *progress {
	p := &progress{w: w, label: label}
	if f, ok := w.(*os.File); ok {
		_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		p.on = err == nil
	}
	return p
}

func (p *progress) set(done, total int) {
	if !p.on || total == 0 {
		return
	}
	const width = 30
	n := done * width / total
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d", p.label, strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total)
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
