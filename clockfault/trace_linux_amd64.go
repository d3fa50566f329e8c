package clockfault

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// stopTimeout bounds how long a thread may take to stop for us.
const stopTimeout = 2 * time.Second

// session is every thread of one process stopped under ptrace, by the OS
// thread that runs the session (ptrace requests must come from the
// tracer's thread). Its thread exits when the session ends, so the kernel
// detaches any tracee left attached, whatever failed.
type session struct {
	pid     int
	threads []int
	// signals holds the signals a thread stopped with instead of our
	// interrupt or trap (Go's runtime sends SIGURG often): they are
	// delivered when the thread is let go.
	signals map[int][]int
}

// traced runs f with every thread of p stopped, then lets them go.
func traced(ctx context.Context, p Proc, f func(*session) error) error {
	if err := p.check(); err != nil {
		return err
	}
	if frozen(p.Pid) {
		return fmt.Errorf("%s: %w", p, ErrFrozen)
	}
	done := make(chan error, 1)
	go func() {
		// Never unlocked: the thread exits with this goroutine, and with it
		// any ptrace attachment that an error left behind.
		runtime.LockOSThread()
		s := &session{pid: p.Pid, signals: map[int][]int{}}
		err := s.stopAll(ctx)
		if err == nil {
			err = f(s)
		}
		done <- errors.Join(err, s.release())
	}()
	return <-done
}

func ptrace(req, tid int, addr, data uintptr) error {
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// stopAll seizes and interrupts every thread, listing them again until no
// new one appears (a thread may be created while we seize the others).
func (s *session) stopAll(ctx context.Context) error {
	for range 100 {
		ts, err := tids(s.pid)
		if err != nil {
			return err
		}
		var fresh []int
		for _, t := range ts {
			if !slices.Contains(s.threads, t) {
				fresh = append(fresh, t)
			}
		}
		if len(fresh) == 0 {
			if len(s.threads) == 0 {
				return fmt.Errorf("pid %d: no thread could be stopped: %w", s.pid, ErrGone)
			}
			return nil
		}
		for _, t := range fresh {
			if err := ptrace(unix.PTRACE_SEIZE, t, 0, 0); err != nil {
				if errors.Is(err, unix.ESRCH) {
					continue // exited meanwhile
				}
				return fmt.Errorf("ptrace seize thread %d of pid %d: %w", t, s.pid, err)
			}
			s.threads = append(s.threads, t)
			if err := ptrace(unix.PTRACE_INTERRUPT, t, 0, 0); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("ptrace interrupt thread %d: %w", t, err)
			}
		}
		for _, t := range fresh {
			if !slices.Contains(s.threads, t) {
				continue
			}
			ws, err := s.wait(ctx, t)
			if errors.Is(err, errExited) {
				s.drop(t)
				continue
			}
			if err != nil {
				return err
			}
			s.note(t, ws)
		}
	}
	return fmt.Errorf("pid %d keeps creating threads", s.pid)
}

var errExited = errors.New("thread exited")

// wait waits for thread t's next stop.
func (s *session) wait(ctx context.Context, t int) (unix.WaitStatus, error) {
	deadline := time.Now().Add(stopTimeout)
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(t, &ws, unix.WALL|unix.WNOHANG, nil)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ECHILD):
			return ws, errExited
		case err != nil:
			return ws, fmt.Errorf("wait for thread %d: %w", t, err)
		case got == t && (ws.Exited() || ws.Signaled()):
			return ws, errExited
		case got == t && ws.Stopped():
			return ws, nil
		}
		if err := ctx.Err(); err != nil {
			return ws, err
		}
		if time.Now().After(deadline) {
			if frozen(s.pid) {
				return ws, fmt.Errorf("pid %d: %w", s.pid, ErrFrozen)
			}
			return ws, fmt.Errorf("thread %d of pid %d did not stop within %v", t, s.pid, stopTimeout)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// note keeps a signal that stopped t (not our interrupt, a group-stop or
// a trap of ours), to be delivered when t is let go.
func (s *session) note(t int, ws unix.WaitStatus) {
	sig := ws.StopSignal()
	if int(ws)>>16 == unix.PTRACE_EVENT_STOP || sig == unix.SIGTRAP {
		return
	}
	if !slices.Contains(s.signals[t], int(sig)) {
		s.signals[t] = append(s.signals[t], int(sig))
	}
}

func (s *session) drop(t int) {
	s.threads = slices.DeleteFunc(s.threads, func(x int) bool { return x == t })
}

// release lets every thread go, with the signals it stopped with: the
// first through the detach, any other sent to it again.
func (s *session) release() error {
	var errs []error
	for _, t := range s.threads {
		sigs := s.signals[t]
		first := 0
		if len(sigs) > 0 {
			first = sigs[0]
		}
		if err := ptrace(unix.PTRACE_DETACH, t, 0, uintptr(first)); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("detach thread %d: %w", t, err))
		}
		for _, sig := range sigs[min(1, len(sigs)):] {
			_ = unix.Tgkill(s.pid, t, unix.Signal(sig))
		}
	}
	s.threads = nil
	return errors.Join(errs...)
}

func (s *session) regs(t int) (unix.PtraceRegs, error) {
	var r unix.PtraceRegs
	err := unix.PtraceGetRegs(t, &r)
	if err != nil {
		err = fmt.Errorf("registers of thread %d: %w", t, err)
	}
	return r, err
}

func (s *session) setRegs(t int, r *unix.PtraceRegs) error {
	if err := unix.PtraceSetRegs(t, r); err != nil {
		return fmt.Errorf("set registers of thread %d: %w", t, err)
	}
	return nil
}

// step single-steps thread t and waits for the trap.
func (s *session) step(ctx context.Context, t int) error {
	return s.resumeUntilTrap(ctx, t, unix.PTRACE_SINGLESTEP)
}

// resumeUntilTrap resumes t with req (PTRACE_SINGLESTEP, PTRACE_CONT)
// until it stops with SIGTRAP. A signal that stops it first is kept for
// later (release delivers it) and t is resumed with req again: the step
// or call has not happened yet.
func (s *session) resumeUntilTrap(ctx context.Context, t, req int) error {
	for {
		if err := ptrace(req, t, 0, 0); err != nil {
			return fmt.Errorf("resume thread %d (ptrace %#x): %w", t, req, err)
		}
		ws, err := s.wait(ctx, t)
		if err != nil {
			if errors.Is(err, errExited) {
				s.drop(t)
			}
			return err
		}
		if ws.StopSignal() == unix.SIGTRAP && int(ws)>>16 == 0 {
			return nil
		}
		s.note(t, ws)
	}
}

// syscall runs syscall nr with args on thread t (stopped), at the syscall
// instruction at, and returns its result; t's registers are restored.
func (s *session) syscall(ctx context.Context, t int, at uint64, nr uint64, args ...uint64) (uint64, error) {
	saved, err := s.regs(t)
	if err != nil {
		return 0, err
	}
	r := saved
	r.Rip = at
	r.Rax = nr
	// No syscall restart: our registers are not the interrupted call's.
	r.Orig_rax = ^uint64(0)
	regs := []*uint64{&r.Rdi, &r.Rsi, &r.Rdx, &r.R10, &r.R8, &r.R9}
	for i, a := range args {
		*regs[i] = a
	}
	if err := s.setRegs(t, &r); err != nil {
		return 0, err
	}
	var res uint64
	for range 10 {
		if err = s.step(ctx, t); err != nil {
			break
		}
		var got unix.PtraceRegs
		if got, err = s.regs(t); err != nil {
			break
		}
		if got.Rip == at+2 {
			res = got.Rax
			break
		}
		if got.Rip != at {
			err = fmt.Errorf("injected syscall on thread %d went to %#x", t, got.Rip)
			break
		}
	}
	return res, errors.Join(err, s.setRegs(t, &saved))
}

// call runs the function at fn(rdi, rsi) on thread t (stopped), on the
// stack that ends at stackTop, returning to ret (an int3), and returns
// rax; t's registers are restored.
func (s *session) call(ctx context.Context, t int, m *mem, fn, rdi, rsi, stackTop, ret uint64) (uint64, error) {
	saved, err := s.regs(t)
	if err != nil {
		return 0, err
	}
	sp := (stackTop - 64) &^ 15
	var b [8]byte
	for i := range 8 {
		b[i] = byte(ret >> (8 * i))
	}
	if err := m.write(sp-8, b[:]); err != nil {
		return 0, err
	}
	r := saved
	r.Rip, r.Rdi, r.Rsi, r.Rsp = fn, rdi, rsi, sp-8
	r.Orig_rax = ^uint64(0)
	if err := s.setRegs(t, &r); err != nil {
		return 0, err
	}
	if err = s.resumeUntilTrap(ctx, t, unix.PTRACE_CONT); err == nil {
		var got unix.PtraceRegs
		if got, err = s.regs(t); err == nil && got.Rip != ret+1 {
			err = fmt.Errorf("measuring call on thread %d trapped at %#x, not at %#x", t, got.Rip, ret+1)
		}
		r = got
	}
	return r.Rax, errors.Join(err, s.setRegs(t, &saved))
}

// leave single-steps every thread whose instruction pointer lies in one of
// the ranges until it is out of all of them (a thread stopped inside a
// patched jump, or inside our page), at most limit steps each.
func (s *session) leave(ctx context.Context, ranges [][2]uint64, limit int) error {
	in := func(pc uint64) bool {
		for _, r := range ranges {
			if pc >= r[0] && pc < r[1] {
				return true
			}
		}
		return false
	}
	for _, t := range slices.Clone(s.threads) {
		for i := 0; ; i++ {
			r, err := s.regs(t)
			if err != nil {
				return err
			}
			if !in(r.Rip) {
				break
			}
			if i == limit {
				return fmt.Errorf("thread %d still at %#x after %d steps", t, r.Rip, limit)
			}
			if err := s.step(ctx, t); err != nil {
				return err
			}
		}
	}
	return nil
}
