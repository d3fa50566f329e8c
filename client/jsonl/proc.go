package jsonl

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// maxLine bounds one line from a client.
const maxLine = 4 << 20

// proc is one running client process: its stdin, its stdout as lines,
// its stderr in a file.
type proc struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan []byte // closed at EOF or on a line too long
	readErr error       // why lines closed; read after it is closed
	waited  chan struct{}
	waitErr error // the process's exit; read after waited is closed
	stderr  *os.File
	once    sync.Once
	nextID  uint64
}

// errProcessGone marks a reply that never came because the process
// ended.
var errProcessGone = errors.New("client process ended")

// start starts argv in dir, its stderr appended to stderrPath (none if
// empty), in a process group of its own so that kill reaches its
// children.
func start(argv []string, dir, stderrPath string) (*proc, error) {
	if len(argv) == 0 {
		return nil, errors.New("no client command")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &proc{cmd: cmd, lines: make(chan []byte, 1), waited: make(chan struct{})}
	if stderrPath != "" {
		f, err := os.OpenFile(stderrPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("client stderr: %w", err)
		}
		p.stderr = f
		cmd.Stderr = f
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		p.closeFiles()
		return nil, err
	}
	// Our own pipe, not StdoutPipe: Wait must not close it under the
	// reader, which reads to its end.
	stdout, w, err := os.Pipe()
	if err != nil {
		p.closeFiles()
		return nil, err
	}
	cmd.Stdout = w
	p.stdin = stdin
	err = cmd.Start()
	w.Close()
	if err != nil {
		stdout.Close()
		p.closeFiles()
		return nil, fmt.Errorf("start client %q: %w", argv[0], err)
	}
	go func() {
		defer stdout.Close()
		p.read(stdout)
	}()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.waited)
	}()
	return p, nil
}

func (p *proc) read(stdout io.Reader) {
	defer close(p.lines)
	r := bufio.NewReaderSize(stdout, 64<<10)
	for {
		line, err := readLine(r)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				p.readErr = err
			}
			// Drain, so that the process never blocks on a full pipe.
			_, _ = io.Copy(io.Discard, r)
			return
		}
		p.lines <- line
	}
}

// readLine reads one line without its end; a line longer than maxLine
// is an error.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				return line, nil
			}
			return nil, err
		}
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, fmt.Errorf("a line longer than %d bytes", maxLine)
		}
		if !isPrefix {
			return line, nil
		}
	}
}

// send writes v as one line.
func (p *proc) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = p.stdin.Write(append(b, '\n'))
	return err
}

// next returns the process's next line, or an error when ctx ends first
// or the process's output ends.
func (p *proc) next(ctx context.Context) ([]byte, error) {
	select {
	case line, ok := <-p.lines:
		if !ok {
			return nil, p.gone()
		}
		return line, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// gone describes why the process's output ended.
func (p *proc) gone() error {
	if p.readErr != nil {
		return fmt.Errorf("%w: %v", errProcessGone, p.readErr)
	}
	select {
	case <-p.waited:
		if p.waitErr != nil {
			return fmt.Errorf("%w: %v", errProcessGone, p.waitErr)
		}
		return fmt.Errorf("%w: exit status 0", errProcessGone)
	case <-time.After(200 * time.Millisecond):
		return fmt.Errorf("%w: it closed its stdout", errProcessGone)
	}
}

// alive reports whether the process still runs and its output is open.
func (p *proc) alive() bool {
	select {
	case <-p.waited:
		return false
	default:
		return true
	}
}

// kill ends the process group at once and waits for the process.
func (p *proc) kill() {
	p.once.Do(func() {
		if p.cmd.Process != nil {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		}
		<-p.waited
		p.closeFiles()
	})
}

// stop closes the process's stdin, which asks it to exit, and kills it
// if it has not within grace.
func (p *proc) stop(grace time.Duration) {
	_ = p.stdin.Close()
	select {
	case <-p.waited:
	case <-time.After(grace):
	}
	p.kill()
}

func (p *proc) closeFiles() {
	if p.stdin != nil {
		_ = p.stdin.Close()
	}
	if p.stderr != nil {
		_ = p.stderr.Close()
	}
}
