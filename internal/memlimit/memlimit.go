// Package memlimit bounds the host memory a model can make int8cal
// allocate. The sizes of a model's constants, folded values and
// intermediate tensors come from the model file: a 2 MB file can ask for
// terabytes. A Budget is checked before each of those allocations, so that
// such a model ends in an error naming the node and the size asked instead
// of Go's fatal "out of memory" (which no code can recover from).
//
// A Budget applies to a graph and to each plan made from it: the graph's
// constants plus what any one plan allocates (folded values, buffers,
// packed weights, working memory) must fit. Plans are not summed: an
// engine holds one plan per input shape (two at most in practice, the
// last batch being smaller) and engines of other precisions are released
// before the next is made; the default limit leaves room for that.
package memlimit

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// Budget is the most bytes a graph and any one plan of it may take.
type Budget struct {
	// Limit is the number of bytes; 0 sets no limit.
	Limit int64
	// Hint says how to change the limit; errors end with it.
	Hint string
}

// Account counts the bytes of one scope (a graph's constants, a plan)
// against a Budget.
type Account struct {
	budget Budget
	used   int64
}

// Account returns an account of b that starts with used bytes already
// taken (a plan's account starts with its graph's constants).
func (b Budget) Account(used int64) *Account { return &Account{budget: b, used: used} }

// Used returns the bytes taken so far.
func (a *Account) Used() int64 { return a.used }

// Take counts n more bytes, or returns an *Error, counting nothing, when
// that would exceed the limit. what names what asks for them (`tensor "y"
// float32[4,4]`); it is only formatted into the error.
func (a *Account) Take(n int64, what string) error {
	if n < 0 {
		panic(fmt.Sprintf("memlimit: negative size %d for %s", n, what))
	}
	if a.budget.Limit > 0 && n > a.budget.Limit-a.used {
		return &Error{What: what, Asked: n, Used: a.used, Limit: a.budget.Limit, Hint: a.budget.Hint}
	}
	if n > math.MaxInt64-a.used { // no limit: saturate rather than wrap
		a.used = math.MaxInt64
		return nil
	}
	a.used += n
	return nil
}

// Error is an allocation refused by a Budget.
type Error struct {
	What  string // what asked, e.g. `tensor "y" float32[4,4]`
	Asked int64  // bytes asked
	Used  int64  // bytes already taken in the same account
	Limit int64
	Hint  string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s needs %s", e.What, Format(e.Asked))
	if e.Used > 0 {
		s += fmt.Sprintf(" on top of %s already taken", Format(e.Used))
	}
	s += "; the memory limit is " + Format(e.Limit)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Format writes a byte count with a binary unit: "512 B", "1.5 MiB",
// "4.0 GiB".
func Format(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, u := float64(n)/1024, 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return fmt.Sprintf("%.1f %ciB", v, units[u])
}

// unitSizes are the units Parse accepts, lower case.
var unitSizes = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

var errSyntax = errors.New("not a size; write a number of bytes with a unit (B, kB, MB, GB, TB or KiB, MiB, GiB, TiB), e.g. 8GiB or 500MB, or 0 or off for no limit")

// Parse reads a size such as "8GiB", "500MB", "1.5 GiB" or "1048576";
// "0" and "off" mean no limit (0). Units are case-insensitive.
func Parse(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "off" {
		return 0, nil
	}
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	v, err := strconv.ParseFloat(num, 64)
	scale, known := unitSizes[unit]
	if num == "" || err != nil || !known {
		return 0, fmt.Errorf("%q: %w", s, errSyntax)
	}
	// Rounded up, so that a positive size never becomes 0 (no limit).
	b := math.Ceil(v * scale)
	if b >= math.MaxInt64 {
		return 0, fmt.Errorf("%q: too large", s)
	}
	return int64(b), nil
}

// DefaultFraction of the memory available when int8cal starts is the
// default limit. What a Budget counts is the live data of a graph and of
// one plan; the process needs more than that: Go's collector lets the heap
// grow up to twice the live data between collections (GOGC=100), an
// engine may hold a second plan (the last, smaller batch), the data set
// and the plugins live beside it, and the engine of the previous precision
// may not be collected yet. Half of what is available keeps a model that
// fits from pushing the machine into swap or the OOM killer, and is still
// several times what the bundled models need.
const DefaultFraction = 0.5

// fallbackLimit is the default where the available memory cannot be read.
const fallbackLimit = 4 << 30

// minDefault is the least default limit: a cgroup that looks full may hold
// reclaimable memory its counters do not show, and 0 would mean no limit.
const minDefault = 64 << 20

// Default returns the default limit and a sentence saying how it was
// found, for the log.
func Default() (int64, string) {
	n, source, err := available("/")
	if err != nil {
		return fallbackLimit, fmt.Sprintf("%s: the available memory is not known (%v)", Format(fallbackLimit), err)
	}
	limit := int64(float64(n) * DefaultFraction)
	how := fmt.Sprintf("%s: %.0f%% of the %s available (%s)", Format(limit), DefaultFraction*100, Format(n), source)
	if limit < minDefault {
		limit = minDefault
		how = fmt.Sprintf("%s: the minimum (%.0f%% of the %s available is less; %s)", Format(limit), DefaultFraction*100, Format(n), source)
	}
	return limit, how
}

// Env is the environment variable that sets the limit when no flag does.
const Env = "INT8CAL_MEMORY_LIMIT"

// Resolve returns the budget for a limit given as flag (the value of the
// command's --memory-limit, "" when not given): the flag, else $Env, else
// [Default]. how says where the limit came from, for the log.
func Resolve(flag string) (b Budget, how string, err error) {
	b.Hint = "--memory-limit to change"
	switch env := os.Getenv(Env); {
	case flag != "":
		if b.Limit, err = Parse(flag); err != nil {
			return b, "", fmt.Errorf("--memory-limit %w", err)
		}
		how = "--memory-limit"
	case env != "":
		if b.Limit, err = Parse(env); err != nil {
			return b, "", fmt.Errorf("$%s %w", Env, err)
		}
		how = "$" + Env
	default:
		b.Limit, how = Default()
	}
	if b.Limit == 0 {
		how = "none (" + how + ")"
	}
	return b, how, nil
}
