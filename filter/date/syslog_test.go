package date

import (
	"strings"
	"testing"
)

// asciiPrefix looks at the first 64 bytes, all of them, and no further.
func TestASCIIPrefix(t *testing.T) {
	base := strings.Repeat("Nov 23 01:07:08 host sshd[1]: x ", 3)
	for n := 0; n <= len(base); n++ {
		if !asciiPrefix(base[:n]) {
			t.Fatalf("%d ASCII bytes: not ASCII", n)
		}
		for at := 0; at < n; at++ {
			for _, c := range []byte{0x80, 0xc3, 0xff} {
				line := base[:at] + string(c) + base[at+1:n]
				if got, want := asciiPrefix(line), at >= 64; got != want {
					t.Fatalf("byte %#x at %d of %d: asciiPrefix %v, want %v", c, at, n, got, want)
				}
			}
		}
	}
}
