package testenv

import (
	"bufio"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rpcwire/rpcwire/internal/logbuf"
)

// Process is a program a test started with Start. It is killed, with any
// processes it started, and waited for when the test ends.
type Process struct {
	cmd    *exec.Cmd
	out    logbuf.Buffer // what it wrote on stdout and stderr
	exited chan struct{} // closed when it has exited and its output is read
	err    error         // Wait's result, set before exited closes
}

// Start runs cmd and waits, at most timeout, until the program writes a
// line starting with ready on its standard output, and returns the rest
// of that line (say, the port after "ready "). The test fails when the
// program exits or says nothing of the sort first.
func Start(t testing.TB, cmd *exec.Cmd, ready string, timeout time.Duration) (*Process, string) {
	t.Helper()
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &p.out
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	readyLine := make(chan string, 1)
	go func() {
		defer close(p.exited)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() { // ends when the program and its children exit
			line := sc.Text()
			_, _ = io.WriteString(&p.out, line+"\n")
			if rest, ok := strings.CutPrefix(line, ready); ok {
				select {
				case readyLine <- rest:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.err = cmd.Wait()
	}()
	t.Cleanup(func() { p.Stop(t) })
	select {
	case rest := <-readyLine:
		return p, strings.TrimSpace(rest)
	case <-p.exited:
		t.Fatalf("%s exited before it was ready: %v\n%s", cmd.Path, p.err, p.Output())
	case <-time.After(timeout):
		t.Fatalf("%s was not ready within %v:\n%s", cmd.Path, timeout, p.Output())
	}
	return nil, ""
}

// Output returns what the program wrote so far.
func (p *Process) Output() string { return p.out.String() }

// Stop kills the program (and the processes it started) and waits for it,
// at most 10 seconds. Stopping a stopped program does nothing.
func (p *Process) Stop(t testing.TB) {
	t.Helper()
	select {
	case <-p.exited:
		return
	default:
	}
	kill(p.cmd)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Errorf("%s did not exit after it was killed", p.cmd.Path)
	}
}

// Run runs cmd to its end, at most timeout (then it is killed, with the
// processes it started), and returns its standard output. The test fails
// when the program fails, with what it wrote on stderr.
func Run(t testing.TB, cmd *exec.Cmd, timeout time.Duration) string {
	t.Helper()
	var stdout, stderr logbuf.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second // output pipes a lingering child holds
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	timer := time.AfterFunc(timeout, func() { kill(cmd) })
	err := cmd.Wait()
	if !timer.Stop() {
		t.Fatalf("%s did not finish within %v; stdout:\n%s\nstderr:\n%s", cmd.Path, timeout, stdout.String(), stderr.String())
	}
	if err != nil {
		t.Fatalf("%s %v: %v; stdout:\n%s\nstderr:\n%s", cmd.Path, cmd.Args[1:], err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
