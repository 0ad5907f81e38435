package date

import (
	"testing"
	"time"
)

// BenchmarkNewDetector builds a detector of fail2ban's default templates,
// as every filter does.
func BenchmarkNewDetector(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		if _, err := New("", Options{Now: time.Now}); err != nil {
			b.Fatal(err)
		}
	}
}
