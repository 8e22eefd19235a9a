//go:build !unix

package toloka

import "time"

// uploadProcessCPU is not measured on this platform; the cpu-ns/task metric reads 0.
func uploadProcessCPU() time.Duration { return 0 }
