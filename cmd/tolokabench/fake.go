package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// fakeProcess is a tolokafake serving in its own process, so its CPU and
// memory are never counted as the client's.
type fakeProcess struct {
	cmd  *exec.Cmd
	url  string // API base URL, ending in /api/v1
	done chan error
}

// buildFake compiles cmd/tolokafake into dir and returns the binary's path.
func buildFake(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "tolokafake")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/gotoloka/toloka/cmd/tolokafake")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building tolokafake (run from inside the module): %w", err)
	}
	return bin, nil
}

// startFake runs the fake on a free 127.0.0.1 port with the demo data
// (project 1, smart-mixing pool 1) and waits for the URL it prints.
func startFake(bin string, args ...string) (*fakeProcess, error) {
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting tolokafake: %w", err)
	}
	f := &fakeProcess{cmd: cmd, done: make(chan error, 1)}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "API base URL: "); ok {
				found <- strings.TrimSpace(rest)
			}
		}
		_, _ = io.Copy(io.Discard, out)
		f.done <- cmd.Wait()
	}()
	select {
	case f.url = <-found:
		return f, nil
	case err := <-f.done:
		return nil, fmt.Errorf("tolokafake exited before printing its URL: %v", err)
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		return nil, errors.New("tolokafake printed no URL within 20 s")
	}
}

// stop ends the fake and returns the CPU time it used.
func (f *fakeProcess) stop() (cpu time.Duration, err error) {
	if err := interrupt(f.cmd.Process); err != nil {
		_ = f.cmd.Process.Kill()
	}
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.done
	}
	u := usageOf(f.cmd.ProcessState)
	return u.cpu, nil
}
