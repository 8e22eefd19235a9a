//go:build unix

package toloka

import (
	"syscall"
	"time"
)

// uploadProcessCPU returns the user+system CPU time of this process so far.
func uploadProcessCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
