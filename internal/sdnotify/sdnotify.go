// Package sdnotify tells systemd about the daemon's state (Type=notify
// units): READY=1 once it serves, STOPPING=1 when it shuts down, RELOADING=1
// during a reload.
package sdnotify

import (
	"net"
	"os"
)

// Notify sends state to the socket in $NOTIFY_SOCKET; without one (not
// run by systemd) it does nothing. It reports whether it sent.
func Notify(state string) (bool, error) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return false, nil
	}
	if path[0] == '@' {
		path = "\x00" + path[1:] // abstract socket
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return false, err
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return false, err
	}
	return true, nil
}
