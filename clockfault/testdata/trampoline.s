# The page clockfault maps into a patched process: data from offset 0, code
# from 0x100. Its bytes are in ../code.go (trampoline); code_test.go checks
# them against this file when `as` is installed.
#
#   as --64 -o t.o trampoline.s && objcopy -O binary -j .text t.o t.bin
#
# The data words are written by the tracer (through /proc/PID/mem); the code
# reaches them RIP-relative, so the page works at any address. Each replaced
# vDSO function jumps here, calls the real clock through the syscall, and adds
# the offset for the clock's family. The syscall path costs more than the
# vDSO's; the benchmark in docs/BENCHMARKS.md measures it.
	.intel_syntax noprefix
	.text
page:
	.ascii "CHAOSCLK"          # 0x00 magic
	.long 1                    # 0x08 layout version
	.long 0                    # 0x0c number of patched sites
realoff:	.quad 0            # 0x10 CLOCK_REALTIME family offset, ns
monooff:	.quad 0            # 0x18 CLOCK_MONOTONIC family offset, ns
	.org 0x100
cg:	# int clock_gettime(clockid_t edi, struct timespec *rsi)
	mov eax, 228               # SYS_clock_gettime
	syscall
	test rax, rax
	jnz 9f
	cmp edi, 31
	ja 8f                      # CPU-time clocks (negative ids) and the rest: as they are
	mov ecx, 0x921             # REALTIME 0, REALTIME_COARSE 5, REALTIME_ALARM 8, TAI 11
	bt ecx, edi
	jc 2f
	mov ecx, 0x2d2             # MONOTONIC 1, MONOTONIC_RAW 4, MONOTONIC_COARSE 6, BOOTTIME 7, BOOTTIME_ALARM 9
	bt ecx, edi
	jnc 8f
	mov r9, [rip + monooff]
	jmp 4f
2:	mov r9, [rip + realoff]
4:	test r9, r9
	jz 8f
	imul rax, [rsi], 1000000000
	add rax, [rsi + 8]
	add rax, r9
	cqo
	mov ecx, 1000000000
	idiv rcx
	test rdx, rdx
	jns 6f
	add rdx, rcx
	dec rax
6:	mov [rsi], rax
	mov [rsi + 8], rdx
8:	xor eax, eax
9:	ret

	.org 0x180
gtod:	# int gettimeofday(struct timeval *rdi, struct timezone *rsi)
	push rdi
	push rsi
	sub rsp, 16
	xor edi, edi
	mov rsi, rsp
	call cg
	mov rcx, [rsp]
	mov r8, [rsp + 8]
	add rsp, 16
	pop rsi
	pop rdi
	test rax, rax
	jnz 9f
	test rdi, rdi
	jz 7f
	mov [rdi], rcx
	mov rax, r8
	xor edx, edx
	mov ecx, 1000
	div rcx
	mov [rdi + 8], rax
7:	test rsi, rsi
	jz 8f
	xor edi, edi               # the time zone, from the kernel
	mov eax, 96                # SYS_gettimeofday
	syscall
	ret
8:	xor eax, eax
9:	ret

	.org 0x200
time:	# time_t time(time_t *rdi)
	push rdi
	sub rsp, 16
	xor edi, edi
	mov rsi, rsp
	call cg
	mov rax, [rsp]
	add rsp, 16
	pop rdi
	test rdi, rdi
	jz 9f
	mov [rdi], rax
9:	ret

	.org 0x240
probe:	# where a measuring call returns to: the tracer sees the trap
	int3
	.org 0x250
