//go:build hyperscan && cgo

package hsblock

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"testing"

	"github.com/flier/gohs/hyperscan"
)

func load(t *testing.T, patterns map[int]string) *Scanner {
	t.Helper()
	var ps []*hyperscan.Pattern
	for id, e := range patterns {
		p := hyperscan.NewPattern(e, hyperscan.MultiLine)
		p.Id = id
		ps = append(ps, p)
	}
	db, err := hyperscan.NewBlockDatabase(ps...)
	if err != nil {
		t.Fatal(err)
	}
	data, err := db.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	d, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.NewScanner()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScanMarksLines(t *testing.T) {
	// Ids 0 and 1 belong to member 0, id 65 is bit 1 of member 1.
	s := load(t, map[int]string{0: "Failed", 1: `from \d+$`, 65: "Invalid"})
	lines := []string{"Failed password from 1", "nothing here", "Invalid user Failed", "", "from 22"}
	var block []byte
	var starts []int
	for _, l := range lines {
		starts = append(starts, len(block))
		block = append(append(block, l...), '\n')
	}
	cand := make([]uint64, len(lines)*2)
	if err := s.Scan(block, starts, cand, 2); err != nil {
		t.Fatal(err)
	}
	want := []uint64{
		0b11, 0, // line 0: Failed, from 1
		0, 0,
		0b01, 0b10, // line 2: Failed (member 0), Invalid (member 1 bit 1)
		0, 0,
		0b10, 0, // line 4: from 22
	}
	for i := range want {
		if cand[i] != want[i] {
			t.Errorf("line %d member %d: %b, want %b", i/2, i%2, cand[i], want[i])
		}
	}
	// The marks add to what is there; a second scanner scans alike.
	d2, err := s.db.NewScanner()
	if err != nil {
		t.Fatal(err)
	}
	cand2 := make([]uint64, len(cand))
	if err := d2.Scan(block, starts, cand2, 2); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cand2, cand) {
		t.Errorf("second scanner: %v, want %v", cand2, cand)
	}
}

func TestScanChecksSizes(t *testing.T) {
	s := load(t, map[int]string{0: "a"})
	if err := s.Scan([]byte("a\nb\n"), []int{0, 2}, make([]uint64, 1), 1); err == nil {
		t.Error("a candidate slice too short for the lines: no error")
	}
	if _, err := Load([]byte("not a database")); err == nil {
		t.Error("Load of junk: no error")
	}
}

// On random blocks (empty lines, several matches per line, long gaps
// between matching lines, patterns whose matches end out of order), each
// line gets exactly the ids of the patterns that match in it.
func TestScanAgreesWithRegexp(t *testing.T) {
	patterns := map[int]string{0: "ab", 1: `b+c`, 2: "^x", 3: `a.{0,30}z`, 64: "c$"}
	s := load(t, patterns)
	var res []*regexp.Regexp
	var ids []int
	for id, e := range patterns {
		res, ids = append(res, regexp.MustCompile(`(?m)`+e)), append(ids, id)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 300 {
		var lines []string
		for range 1 + r.IntN(40) {
			b := make([]byte, r.IntN(12)*r.IntN(4))
			for i := range b {
				b[i] = "abcxz "[r.IntN(6)]
			}
			lines = append(lines, string(b))
		}
		var block []byte
		var starts []int
		for _, l := range lines {
			starts = append(starts, len(block))
			block = append(append(block, l...), '\n')
		}
		cand := make([]uint64, 2*len(lines))
		if err := s.Scan(block, starts, cand, 2); err != nil {
			t.Fatal(err)
		}
		for i, l := range lines {
			want := make([]uint64, 2)
			for k, re := range res {
				if re.MatchString(l + "\n") {
					want[ids[k]/64] |= 1 << (ids[k] % 64)
				}
			}
			if got := cand[2*i : 2*i+2]; !slices.Equal(got, want) {
				t.Fatalf("round %d, line %d %q: %b, want %b", round, i, l, got, want)
			}
		}
	}
}
