package daemon

import (
	"errors"
	"fmt"
	"strings"

	"github.com/f2bx/f2bx/action"
	"github.com/f2bx/f2bx/action/command"
	"github.com/f2bx/f2bx/action/nft"
	"github.com/f2bx/f2bx/action/xdp"
)

// backends are the shared kernel backends the jails' actions use; each is
// opened by the first jail that needs it and kept across reloads.
func (d *Daemon) backends(merged command.Merged) action.Backends {
	return action.Backends{XDP: d.openXDP, NFT: d.openNFT, Merged: merged, Now: d.o.Clock.Now, Log: d.log}
}

// openXDP loads (or adopts) the XDP program and attaches it to the
// interfaces: the action's "interface" option, else the daemon's, else
// every interface that is up.
func (d *Daemon) openXDP(opts map[string]string) (*xdp.Blacklist, error) {
	d.backendMu.Lock()
	defer d.backendMu.Unlock()
	if d.blacklist != nil {
		return d.blacklist, nil
	}
	pin := d.o.XDP.PinDir
	switch pin {
	case "":
		pin = xdp.DefaultPinDir
	case "none":
		pin = ""
	}
	ifs := d.o.XDP.Interfaces
	if v := opts["interface"]; v != "" {
		ifs = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	}
	if len(ifs) == 0 {
		var err error
		if ifs, err = xdp.DefaultInterfaces(); err != nil {
			return nil, err
		}
		if len(ifs) == 0 {
			return nil, errors.New("no interface is up to attach to")
		}
	}
	mode := d.o.XDP.Mode
	if v := opts["mode"]; v != "" {
		mode = v
	}
	if mode == "" {
		mode = xdp.ModeAuto
	}
	bl, err := xdp.Open(xdp.Options{PinDir: pin, Logger: d.log})
	if err != nil {
		return nil, err
	}
	modes, err := bl.Attach(ifs, mode)
	if err != nil {
		bl.Close()
		return nil, fmt.Errorf("attach: %w", err)
	}
	d.log.Info("XDP attached", "interfaces", fmt.Sprint(modes), "adopted", bl.Adopted())
	d.blacklist = bl
	return bl, nil
}

// openNFT creates f2bx's nftables table.
func (d *Daemon) openNFT(opts map[string]string) (*nft.Table, error) {
	d.backendMu.Lock()
	defer d.backendMu.Unlock()
	if d.table != nil {
		return d.table, nil
	}
	o := d.o.NFT
	if v := opts["hook"]; v != "" {
		o.Hook = v
	}
	if v := opts["devices"]; v != "" {
		o.Devices = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	}
	t, err := nft.Open(o)
	if err != nil {
		return nil, err
	}
	d.table = t
	return t, nil
}

// closeBackends releases the backends: the XDP maps stay pinned (and keep
// dropping) unless flush.
func (d *Daemon) closeBackends(flush bool) {
	d.backendMu.Lock()
	defer d.backendMu.Unlock()
	if d.blacklist != nil {
		var err error
		if flush {
			err = d.blacklist.Flush()
		}
		err = errors.Join(err, d.blacklist.Close())
		if err != nil {
			d.log.Warn("closing XDP", "err", err)
		}
		d.blacklist = nil
	}
	if d.table != nil {
		if err := d.table.Close(); err != nil {
			d.log.Warn("closing nftables", "err", err)
		}
		d.table = nil
	}
}
