//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
	"time"
)

// usage is what a finished process used: user+system CPU and peak RSS.
type usage struct {
	cpu    time.Duration
	maxRSS int64 // bytes
}

func usageOf(ps *os.ProcessState) usage {
	if ps == nil {
		return usage{}
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return usage{}
	}
	return usage{cpu: ps.UserTime() + ps.SystemTime(), maxRSS: maxRSSBytes(ru.Maxrss)}
}

// maxRSSBytes converts ru_maxrss: kilobytes on Linux, bytes on macOS.
func maxRSSBytes(v int64) int64 {
	if runtime.GOOS == "darwin" {
		return v
	}
	return v * 1024
}

// selfCPU is this process's user+system CPU time so far, all threads.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func interrupt(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
