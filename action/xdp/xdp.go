// Package xdp enforces bans with f2bx's XDP program (package bpf): it loads
// the program, attaches it to interfaces, pins its maps and links under
// bpffs so that bans keep dropping while no daemon runs, adopts what an
// earlier daemon pinned, and writes bans into the maps in batches.
package xdp

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/f2bx/f2bx/bpf"
)

// DefaultPinDir is where maps and links are pinned.
const DefaultPinDir = "/sys/fs/bpf/f2bx"

// Modes an XDP program can be attached in.
const (
	ModeAuto    = "auto"    // native, else generic
	ModeNative  = "native"  // in the driver
	ModeGeneric = "generic" // after the kernel built an skb
)

// Options configure a Blacklist.
type Options struct {
	// PinDir is where maps and links are pinned; "" disables pinning
	// (bans end with the process).
	PinDir string
	// MaxBans4 and MaxBans6 size the exact-address maps, MaxPrefixes the
	// prefix tries; zero keeps the program's defaults (1M, 256k, 64k).
	MaxBans4, MaxBans6, MaxPrefixes uint32
	// Prealloc makes the exact-ban maps allocate all their entries at
	// load (faster inserts; kernel memory for MaxBans at once).
	Prealloc bool
	Logger   *slog.Logger
}

// Blacklist is the loaded XDP program and its maps.
type Blacklist struct {
	opts  Options
	log   *slog.Logger
	objs  bpf.XdpObjects
	mu    sync.Mutex
	links map[string]link.Link // by interface name
	bans  *owners
	allow allowSets
	flags uint32
}

// Open loads the program. With a PinDir its maps are the pinned ones when
// they exist (bans left by an earlier daemon stay), else new and pinned.
func Open(opts Options) (*Blacklist, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	spec, err := bpf.LoadXdp()
	if err != nil {
		return nil, fmt.Errorf("load xdp spec: %w", err)
	}
	resize := func(name string, n uint32) {
		if n > 0 {
			spec.Maps[name].MaxEntries = n
		}
	}
	resize(bpf.XdpMapBan4, opts.MaxBans4)
	resize(bpf.XdpMapBan6, opts.MaxBans6)
	resize(bpf.XdpMapPrefix4, opts.MaxPrefixes)
	resize(bpf.XdpMapPrefix6, opts.MaxPrefixes)
	if opts.Prealloc {
		spec.Maps[bpf.XdpMapBan4].Flags &^= unix.BPF_F_NO_PREALLOC
		spec.Maps[bpf.XdpMapBan6].Flags &^= unix.BPF_F_NO_PREALLOC
	}
	var copts ebpf.CollectionOptions
	if opts.PinDir != "" {
		if err := ensurePinDir(opts.PinDir); err != nil {
			return nil, err
		}
		copts.Maps.PinPath = opts.PinDir
	} else {
		for _, m := range spec.Maps {
			m.Pinning = ebpf.PinNone
		}
	}
	b := &Blacklist{opts: opts, log: opts.Logger, links: map[string]link.Link{}, bans: newOwners()}
	if err := spec.LoadAndAssign(&b.objs, &copts); err != nil {
		if errors.Is(err, ebpf.ErrMapIncompatible) {
			return nil, fmt.Errorf("load xdp: pinned maps in %s differ from this build (remove them with `f2bx stop --flush`): %w", opts.PinDir, err)
		}
		return nil, fmt.Errorf("load xdp: %w", err)
	}
	if err := b.objs.Settings.Lookup(uint32(0), &b.flags); err != nil {
		b.objs.Close()
		return nil, fmt.Errorf("read settings: %w", err)
	}
	if err := b.adopt(); err != nil {
		b.objs.Close()
		return nil, err
	}
	return b, nil
}

// ensurePinDir creates dir, mounting bpffs on its parent when nothing is
// mounted there.
func ensurePinDir(dir string) error {
	parent := filepath.Dir(dir)
	var st unix.Statfs_t
	if err := unix.Statfs(parent, &st); err != nil {
		return fmt.Errorf("pin dir: %w", err)
	}
	if st.Type != unix.BPF_FS_MAGIC {
		if err := unix.Mount("bpf", parent, "bpf", 0, "mode=0700"); err != nil {
			return fmt.Errorf("mount bpffs on %s: %w", parent, err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pin dir: %w", err)
	}
	return nil
}

// Program is the loaded XDP program (for tests and benchmarks).
func (b *Blacklist) Program() *ebpf.Program { return b.objs.F2bxXdp }

// DefaultInterfaces returns every interface that is up, except loopback.
func DefaultInterfaces() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var names []string
	for _, i := range ifs {
		if i.Flags&net.FlagUp != 0 && i.Flags&net.FlagLoopback == 0 {
			names = append(names, i.Name)
		}
	}
	return names, nil
}

// Attach attaches the program to the named interfaces (resolved in the
// calling thread's network namespace). A link an earlier daemon pinned
// for an interface is adopted and switched to this program; pinned links
// of interfaces not named are detached. It returns the mode used per
// interface.
func (b *Blacklist) Attach(ifnames []string, mode string) (map[string]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	want := map[string]bool{}
	for _, n := range ifnames {
		want[n] = true
	}
	if b.opts.PinDir != "" {
		pinned, _ := filepath.Glob(filepath.Join(b.opts.PinDir, "link_*"))
		for _, p := range pinned {
			name := filepath.Base(p)[len("link_"):]
			l, err := link.LoadPinnedLink(p, nil)
			if err != nil {
				os.Remove(p)
				continue
			}
			if !want[name] {
				l.Unpin()
				l.Close()
				continue
			}
			if err := l.Update(b.objs.F2bxXdp); err != nil {
				b.log.Warn("xdp: pinned link not adopted", "interface", name, "err", err)
				l.Unpin()
				l.Close()
				continue
			}
			b.links[name] = l
		}
	}
	modes := map[string]string{}
	var errs []error
	for _, name := range ifnames {
		if _, ok := b.links[name]; ok {
			modes[name] = "adopted"
			continue
		}
		m, err := b.attach(name, mode)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		modes[name] = m
	}
	return modes, errors.Join(errs...)
}

func (b *Blacklist) attach(name, mode string) (string, error) {
	iface, err := net.InterfaceByName(name)
	if err != nil {
		return "", fmt.Errorf("attach xdp: %w", err)
	}
	try := []string{mode}
	if mode == ModeAuto || mode == "" {
		try = []string{ModeNative, ModeGeneric}
	}
	var l link.Link
	var used string
	for _, m := range try {
		flags := link.XDPDriverMode
		switch m {
		case ModeGeneric:
			flags = link.XDPGenericMode
		case ModeNative:
		default:
			return "", fmt.Errorf("attach xdp: unknown mode %q (auto, native or generic)", m)
		}
		l, err = link.AttachXDP(link.XDPOptions{Program: b.objs.F2bxXdp, Interface: iface.Index, Flags: flags})
		if err == nil {
			used = m
			break
		}
	}
	if err != nil {
		return "", fmt.Errorf("attach xdp to %s: %w", name, err)
	}
	if b.opts.PinDir != "" {
		if err := l.Pin(filepath.Join(b.opts.PinDir, "link_"+name)); err != nil {
			l.Close()
			return "", fmt.Errorf("pin xdp link of %s: %w", name, err)
		}
	}
	b.links[name] = l
	return used, nil
}

// Interfaces returns the interfaces the program is attached to.
func (b *Blacklist) Interfaces() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var names []string
	for n := range b.links {
		names = append(names, n)
	}
	return names
}

// Close releases the program in this process. Pinned links and maps stay:
// bans keep dropping until the next daemon adopts them.
func (b *Blacklist) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	for n, l := range b.links {
		errs = append(errs, l.Close())
		delete(b.links, n)
	}
	errs = append(errs, b.objs.Close())
	return errors.Join(errs...)
}

// Flush detaches the program from every interface and removes the pins:
// nothing of f2bx stays in the kernel.
func (b *Blacklist) Flush() error {
	b.mu.Lock()
	var errs []error
	for n, l := range b.links {
		if b.opts.PinDir != "" {
			errs = append(errs, l.Unpin())
		}
		errs = append(errs, l.Close())
		delete(b.links, n)
	}
	b.mu.Unlock()
	if b.opts.PinDir != "" {
		for _, m := range []*ebpf.Map{b.objs.Ban4, b.objs.Ban6, b.objs.Prefix4, b.objs.Prefix6, b.objs.Allow4, b.objs.Allow6, b.objs.Settings, b.objs.Stats} {
			errs = append(errs, m.Unpin())
		}
		os.Remove(b.opts.PinDir)
	}
	errs = append(errs, b.Close())
	return errors.Join(errs...)
}

// FlushPinned removes what a daemon pinned in dir (detaching its links)
// without loading the program: `f2bx stop --flush` after a crash.
func FlushPinned(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("flush xdp: %w", err)
	}
	var errs []error
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if l, err := link.LoadPinnedLink(p, nil); err == nil {
			errs = append(errs, l.Unpin(), l.Close())
			continue
		}
		errs = append(errs, os.Remove(p))
	}
	errs = append(errs, os.Remove(dir))
	return errors.Join(errs...)
}

// Pinned reports whether the maps and links are pinned (they outlive the
// process).
func (b *Blacklist) Pinned() bool { return b.opts.PinDir != "" }
