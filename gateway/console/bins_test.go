package console

import "testing"

func TestBinBound(t *testing.T) {
	for ms, want := range map[float64]string{100: "100 ms", 1000: "1 s", 10e3: "10 s", 60e3: "1 min", 600e3: "10 min",
		3600e3: "1 h", 86400e3: "1 d", 7 * 86400e3: "7 d", 90e3: "90 s", 1500: "1500 ms"} {
		if got := binBound(ms); got != want {
			t.Errorf("binBound(%v) = %q, want %q", ms, got, want)
		}
	}
}
