// Package sshdlog generates sshd logs for benchmarks: a share of failure
// lines from a pool of attacking addresses (some IPv6), the rest ordinary
// sshd traffic, deterministic for a seed.
package sshdlog

import (
	"bytes"
	"fmt"
	"math/rand"
	"time"
)

// Spec describes a log.
type Spec struct {
	Lines     int
	Failures  float64 // share of failure lines, 0..1
	Addresses int     // distinct attacking addresses
	IPv6      float64 // share of IPv6 addresses, 0..1
	Start     time.Time
	Seed      int64
}

// Generate returns the log.
func Generate(s Spec) []byte {
	r := rand.New(rand.NewSource(s.Seed))
	addrs := make([]string, s.Addresses)
	for i := range addrs {
		if r.Float64() < s.IPv6 {
			addrs[i] = fmt.Sprintf("2001:db8:%x:%x::%x", i>>16, i&0xffff, r.Intn(65535)+1)
		} else {
			addrs[i] = fmt.Sprintf("%d.%d.%d.%d", 1+i>>16&0x7f, i>>8&0xff, i&0xff, 1+r.Intn(254))
		}
	}
	users := []string{"root", "admin", "oracle", "test", "ubuntu", "pi", "git", "postgres", "user"}
	var b bytes.Buffer
	b.Grow(s.Lines * 100)
	t := s.Start
	for i := 0; i < s.Lines; i++ {
		if i%50 == 0 {
			t = t.Add(time.Second)
		}
		b.WriteString(t.Format("Jan _2 15:04:05"))
		fmt.Fprintf(&b, " server sshd[%d]: ", 10000+r.Intn(50000))
		port := 1024 + r.Intn(60000)
		if r.Float64() < s.Failures {
			a, u := addrs[r.Intn(len(addrs))], users[r.Intn(len(users))]
			switch r.Intn(3) {
			case 0:
				fmt.Fprintf(&b, "Failed password for %s from %s port %d ssh2\n", u, a, port)
			case 1:
				fmt.Fprintf(&b, "Failed password for invalid user %s from %s port %d ssh2\n", u, a, port)
			default:
				fmt.Fprintf(&b, "Invalid user %s from %s port %d\n", u, a, port)
			}
			continue
		}
		a := fmt.Sprintf("198.51.100.%d", 1+r.Intn(254))
		switch r.Intn(4) {
		case 0:
			fmt.Fprintf(&b, "Accepted publickey for deploy from %s port %d ssh2: ED25519 SHA256:Zm9vYmFy\n", a, port)
		case 1:
			fmt.Fprintf(&b, "pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)\n")
		case 2:
			fmt.Fprintf(&b, "Received disconnect from %s port %d:11: disconnected by user\n", a, port)
		default:
			fmt.Fprintf(&b, "pam_unix(sshd:session): session closed for user deploy\n")
		}
	}
	return b.Bytes()
}
