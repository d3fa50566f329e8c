// Package clockfault shifts the clocks one process reads, without touching
// the machine's clock: it patches the process's vDSO so that
// clock_gettime, gettimeofday and time add an offset, held in a page of
// ours inside the process.
//
// # How
//
// Go programs (static ones included) and glibc read the time through the
// vDSO, a small library the kernel maps into every process, without a
// syscall; LD_PRELOAD tricks such as libfaketime never see Go's calls. As
// root on the host, Patch attaches to every thread of the process with
// ptrace (PTRACE_SEIZE, PTRACE_INTERRUPT), makes the process map one page
// of ours (an mmap run on one of its threads), writes our code and data
// into it through /proc/PID/mem, and replaces the first 12 bytes of each
// vDSO function with a jump to our code (movabs rax, ADDR; jmp rax). Our
// clock_gettime asks the kernel for the time with the real syscall and adds
// the offset of the clock's family: CLOCK_REALTIME, _COARSE, _ALARM and
// CLOCK_TAI get the realtime offset; CLOCK_MONOTONIC, _RAW, _COARSE,
// CLOCK_BOOTTIME and _ALARM the monotonic one (zero unless asked for);
// CPU-time clocks are left alone. gettimeofday and time go through it. The
// tracer then detaches: nothing stays attached, so the process runs
// untraced between changes, a paused (frozen) process stays frozen, and
// a crashed controller leaves no tracer behind.
//
// The offsets are two words of that page: Set changes them with one
// 8-byte write to /proc/PID/mem, with no ptrace stop, so strobing is cheap
// and each reader sees either the old offset or the new one. Restore
// zeroes the offsets, puts the vDSO's original bytes back (after moving
// every thread out of the patched bytes and out of our page) and unmaps
// the page. The page describes itself (a magic, the patched sites and
// their original bytes), so Restore needs nothing but the pid: the crash
// guard restores a process the controller patched before it died.
//
// Measure reads the clock through the patch: it runs the patched
// clock_gettime(CLOCK_REALTIME) on a stopped thread of the process, with a
// stack in our page and a return address that traps, and compares the
// result with this host's clock read just before and after.
//
// # What is not shifted
//
//   - a raw clock_gettime syscall (the patch replaces the vDSO's code; a
//     program that makes the syscall itself escapes, and so do the
//     kernel's own timers: sleeps, timeouts, timerfd, file times);
//   - code that reads the TSC (rdtsc) itself;
//   - a process started after the patch (a restart, an exec: exec maps a
//     fresh vDSO): the caller patches new processes (fault/clock does on
//     every change and on a node's restart, and records which);
//   - any other process, the host, and the machine's clock: nothing here
//     calls clock_settime or needs CAP_SYS_TIME.
//
// Only x86_64 Linux is supported; elsewhere every call returns
// ErrUnsupported.
package clockfault
