package nft

// TestManyElements bans more than one netlink message can carry.

import (
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/f2bx/f2bx/internal/netns"
)

func TestManyElements(t *testing.T) {
	if why := netns.Available(); why != "" {
		t.Skip(why)
	}
	ns, err := netns.New("f2bx-nftmany")
	if err != nil {
		t.Skip(err)
	}
	defer ns.Close()
	f, err := os.Open("/var/run/netns/" + ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := Open(Options{NetNS: int(f.Fd())})
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	j, err := tab.Jail("b")
	if err != nil {
		t.Fatal(err)
	}
	// Past one message's 16-bit attribute and one transaction's size.
	total := 0
	for _, n := range []int{100, 3000, 40000} {
		var bans []Ban
		for i := 0; i < n; i++ {
			bans = append(bans, Ban{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(n >> 8), byte(n), byte(i >> 8), byte(i)}), 32)})
		}
		if err := j.Ban(bans, time.Now()); err != nil {
			t.Fatalf("%d bans: %v", n, err)
		}
		total += n
	}
	got, err := j.Banned()
	if err != nil || len(got) != total {
		t.Fatalf("%d elements in the set (%v), want %d", len(got), err, total)
	}
}
