//go:build !unix

package main

import (
	"os"
	"time"
)

// usage is what a finished process used; off unix only CPU time is known.
type usage struct {
	cpu    time.Duration
	maxRSS int64
}

func usageOf(ps *os.ProcessState) usage {
	if ps == nil {
		return usage{}
	}
	return usage{cpu: ps.UserTime() + ps.SystemTime()}
}

func selfCPU() time.Duration { return 0 }

func interrupt(p *os.Process) error { return p.Kill() }
