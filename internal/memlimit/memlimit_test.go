package memlimit

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"0", 0, false},
		{"off", 0, false},
		{"OFF", 0, false},
		{"1048576", 1 << 20, false},
		{"512B", 512, false},
		{"8GiB", 8 << 30, false},
		{"8gib", 8 << 30, false},
		{"1.5 GiB", 3 << 29, false},
		{"500MB", 500e6, false},
		{"2kB", 2000, false},
		{"3TiB", 3 << 40, false},
		{"0.1", 1, false}, // a positive size never rounds to "no limit"
		{"", 0, true},
		{"GiB", 0, true},
		{"-1GiB", 0, true},
		{"8 gigs", 0, true},
		{"1e9", 0, true},
		{"1.2.3GB", 0, true},
		{"9000000TiB", 0, true},
	} {
		got, err := Parse(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !strings.Contains(err.Error(), "8GiB") && !strings.Contains(err.Error(), "too large") {
			t.Errorf("Parse(%q) error %q does not show how to write a size", tc.in, err)
		}
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 29: "1.5 GiB", 4 << 30: "4.0 GiB", 1 << 62: "4.0 EiB",
	} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestAccount(t *testing.T) {
	a := Budget{Limit: 10 << 20, Hint: "--memory-limit to change"}.Account(2 << 20)
	if err := a.Take(8<<20, "first"); err != nil {
		t.Fatalf("a take that fits exactly was refused: %v", err)
	}
	err := a.Take(1, `tensor "y" float32[1]`)
	var le *Error
	if !errors.As(err, &le) || le.Asked != 1 || le.Used != 10<<20 || le.Limit != 10<<20 {
		t.Fatalf("over the limit: error %#v", err)
	}
	want := `tensor "y" float32[1] needs 1 B on top of 10.0 MiB already taken; the memory limit is 10.0 MiB (--memory-limit to change)`
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	if a.Used() != 10<<20 {
		t.Errorf("a refused take was counted: used %d", a.Used())
	}

	// No limit: everything fits and the count saturates instead of
	// wrapping around.
	u := Budget{}.Account(0)
	for range 3 {
		if err := u.Take(1<<62, "big"); err != nil {
			t.Fatal(err)
		}
	}
	if u.Used() < 1<<62 {
		t.Errorf("used wrapped to %d", u.Used())
	}
}

func TestDefault(t *testing.T) {
	limit, how := Default()
	if limit <= 0 || !strings.Contains(how, Format(limit)) {
		t.Errorf("Default() = %d, %q", limit, how)
	}
	t.Log(how)
}
