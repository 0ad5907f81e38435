package netns

import "testing"

// TestLab is NewLab for a test: it skips the test where namespaces are
// not available, fails it when the lab cannot be made, and removes the lab
// when the test ends.
func TestLab(t testing.TB, prefix string) *Lab {
	t.Helper()
	if why := Available(); why != "" {
		t.Skip(why)
	}
	lab, err := NewLab(prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Close() })
	return lab
}
