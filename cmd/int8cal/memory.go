package main

import (
	"fmt"
	"os"

	"github.com/int8cal/int8cal/internal/memlimit"
)

// memoryLimitEnv sets the memory limit when --memory-limit is not given.
const memoryLimitEnv = "INT8CAL_MEMORY_LIMIT"

const memoryLimitUsage = "the most memory the model may make int8cal allocate (its constants, and the buffers, packed weights " +
	"and working memory of a run), e.g. 8GiB or 500MB; 0 or off for no limit " +
	"(default: $" + memoryLimitEnv + ", else half of the memory available)"

// memoryBudget resolves --memory-limit: the flag, else $INT8CAL_MEMORY_LIMIT,
// else memlimit.Default; it also says where the limit came from, for the
// log.
func memoryBudget(flag string) (memlimit.Budget, string, error) {
	b := memlimit.Budget{Hint: "--memory-limit to change"}
	var how string
	switch env := os.Getenv(memoryLimitEnv); {
	case flag != "":
		n, err := memlimit.Parse(flag)
		if err != nil {
			return b, "", fmt.Errorf("--memory-limit %w", err)
		}
		b.Limit, how = n, "--memory-limit"
	case env != "":
		n, err := memlimit.Parse(env)
		if err != nil {
			return b, "", fmt.Errorf("$%s %w", memoryLimitEnv, err)
		}
		b.Limit, how = n, "$"+memoryLimitEnv
	default:
		b.Limit, how = memlimit.Default()
	}
	if b.Limit == 0 {
		how = "none (" + how + ")"
	}
	return b, how, nil
}
