//go:build amd64 && !purego && linux

package qgemm

import (
	"sync"
	"syscall"
)

// amxPermitted asks Linux, once, to let this process use the AMX tile
// data (arch_prctl ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA, Linux
// 5.16 and later); without the permission the first tile instruction
// would kill the process.
var amxPermitted = sync.OnceValue(func() bool {
	const (
		sysArchPrctl      = 158
		archReqXcompPerm  = 0x1023
		xfeatureXtiledata = 18
	)
	_, _, errno := syscall.RawSyscall(sysArchPrctl, archReqXcompPerm, xfeatureXtiledata, 0)
	return errno == 0
})
