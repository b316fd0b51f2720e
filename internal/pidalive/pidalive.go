// Package pidalive says whether a process ID is in use, for sweeping the
// leftovers (temporary files, socket directories) of processes that died
// without cleaning up. The answer errs on the side of "alive": a reused ID
// keeps a leftover, which is safe.
package pidalive
