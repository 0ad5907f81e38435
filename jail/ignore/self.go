package ignore

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Self is the set of the host's own addresses (every address of every
// interface, and the loopback addresses), kept current by listening to
// the kernel's address notifications.
type Self struct {
	addrs atomic.Pointer[map[netip.Addr]struct{}]
	dump  int // netlink socket for address dumps
	watch int // netlink socket subscribed to address changes
}

// NewSelf reads the addresses of the network namespace of the calling
// thread. Call Watch to follow changes and Close to release it.
func NewSelf() (*Self, error) {
	dump, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("ignoreself: netlink socket: %w", err)
	}
	watch, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		unix.Close(dump)
		return nil, fmt.Errorf("ignoreself: netlink socket: %w", err)
	}
	groups := uint32(unix.RTMGRP_IPV4_IFADDR | unix.RTMGRP_IPV6_IFADDR)
	if err := unix.Bind(watch, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(dump)
		unix.Close(watch)
		return nil, fmt.Errorf("ignoreself: netlink bind: %w", err)
	}
	s := &Self{dump: dump, watch: watch}
	if err := s.Refresh(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Contains reports whether a is one of the host's addresses.
func (s *Self) Contains(a netip.Addr) bool {
	_, ok := (*s.addrs.Load())[a.Unmap()]
	return ok
}

// Addrs returns the host's addresses.
func (s *Self) Addrs() []netip.Addr {
	var out []netip.Addr
	for a := range *s.addrs.Load() {
		out = append(out, a)
	}
	return out
}

// Refresh reads the addresses again.
func (s *Self) Refresh() error {
	m := map[netip.Addr]struct{}{
		netip.MustParseAddr("127.0.0.1"): {}, netip.IPv6Loopback(): {},
	}
	req := make([]byte, unix.NLMSG_HDRLEN+unix.SizeofIfAddrmsg)
	*(*unix.NlMsghdr)(unsafe.Pointer(&req[0])) = unix.NlMsghdr{Len: uint32(len(req)), Type: unix.RTM_GETADDR,
		Flags: unix.NLM_F_REQUEST | unix.NLM_F_DUMP, Seq: 1}
	if err := unix.Sendto(s.dump, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("ignoreself: address dump: %w", err)
	}
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(s.dump, buf, 0)
		if err != nil {
			return fmt.Errorf("ignoreself: address dump: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("ignoreself: address dump: %w", err)
		}
		for _, msg := range msgs {
			switch msg.Header.Type {
			case unix.NLMSG_DONE:
				s.addrs.Store(&m)
				return nil
			case unix.NLMSG_ERROR:
				return fmt.Errorf("ignoreself: address dump refused")
			case unix.RTM_NEWADDR:
				attrs, err := syscall.ParseNetlinkRouteAttr(&msg)
				if err != nil {
					continue
				}
				for _, a := range attrs {
					if a.Attr.Type != unix.IFA_ADDRESS && a.Attr.Type != unix.IFA_LOCAL {
						continue
					}
					if ip, ok := netip.AddrFromSlice(a.Value); ok {
						m[ip.Unmap()] = struct{}{}
					}
				}
			}
		}
	}
}

// Watch refreshes the addresses whenever the kernel reports a change,
// until ctx ends (Close also ends it).
func (s *Self) Watch(ctx context.Context, onChange func(error)) {
	// A receive timeout lets the loop notice that ctx ended.
	tv := unix.NsecToTimeval(int64(200 * time.Millisecond))
	unix.SetsockoptTimeval(s.watch, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	buf := make([]byte, 1<<16)
	for ctx.Err() == nil {
		_, _, err := unix.Recvfrom(s.watch, buf, 0)
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		if err == unix.EBADF {
			return
		}
		// Any message (or a lost one, ENOBUFS) means: read them all again.
		err = s.Refresh()
		if onChange != nil {
			onChange(err)
		}
	}
}

// Close releases the sockets.
func (s *Self) Close() error {
	unix.Close(s.dump)
	return unix.Close(s.watch)
}
