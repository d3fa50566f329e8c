package clockfault

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrUnsupported is returned where patching a process's clock is not
// possible: another architecture than x86_64, another OS than Linux.
var ErrUnsupported = errors.New("clock faults need x86_64 Linux (vDSO patching)")

// ErrFrozen is returned (wrapped) when the process's threads cannot be
// stopped because its cgroup is frozen (docker pause): a patch needs a
// running process. Set and Restore still work on a frozen process.
var ErrFrozen = errors.New("process is frozen (paused)")

// Offsets are the shifts a patched process sees.
type Offsets struct {
	// Realtime shifts CLOCK_REALTIME (and _COARSE, _ALARM, CLOCK_TAI),
	// gettimeofday and time.
	Realtime time.Duration `json:"realtime"`
	// Monotonic shifts CLOCK_MONOTONIC (and _RAW, _COARSE) and
	// CLOCK_BOOTTIME (and _ALARM).
	Monotonic time.Duration `json:"monotonic,omitempty"`
}

// The page of ours in a patched process: a data header, then the code of
// testdata/trampoline.s, then (second page) a stack for Measure.
const (
	pageSize   = 4096
	mapSize    = 2 * pageSize // page 0: header + code (r-x); page 1: Measure's stack (rw-)
	magic      = "CHAOSCLK"
	version    = 1
	offNSites  = 0x0c
	offReal    = 0x10
	offMono    = 0x18
	offVDSO    = 0x20
	offSites   = 0x40
	siteSize   = 32
	maxSites   = 3
	codeCG     = 0x100
	codeGTOD   = 0x180
	codeTime   = 0x200
	codeProbe  = 0x240
	jumpSize   = 12 // movabs rax, imm64; jmp rax
	headerSize = offSites + maxSites*siteSize
)

// site is one patched vDSO function: where, and the bytes it had.
type site struct {
	Name string `json:"name"`
	Addr uint64 `json:"addr"`
	Orig []byte `json:"orig"`
}

// trampolines, by vDSO symbol: the code each patched function jumps to.
var entries = map[string]uint64{
	"__vdso_clock_gettime": codeCG,
	"__vdso_gettimeofday":  codeGTOD,
	"__vdso_time":          codeTime,
}

// code is testdata/trampoline.s assembled: clock_gettime at 0x100,
// gettimeofday at 0x180, time at 0x200, the probe's trap at 0x240.
var code = map[uint64][]byte{
	codeCG: {
		0xb8, 0xe4, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x85, 0xc0, 0x75, 0x5a, 0x83, 0xff, 0x1f, 0x77,
		0x53, 0xb9, 0x21, 0x09, 0x00, 0x00, 0x0f, 0xa3, 0xf9, 0x72, 0x13, 0xb9, 0xd2, 0x02, 0x00, 0x00,
		0x0f, 0xa3, 0xf9, 0x73, 0x3f, 0x4c, 0x8b, 0x0d, 0xec, 0xfe, 0xff, 0xff, 0xeb, 0x07, 0x4c, 0x8b,
		0x0d, 0xdb, 0xfe, 0xff, 0xff, 0x4d, 0x85, 0xc9, 0x74, 0x2a, 0x48, 0x69, 0x06, 0x00, 0xca, 0x9a,
		0x3b, 0x48, 0x03, 0x46, 0x08, 0x4c, 0x01, 0xc8, 0x48, 0x99, 0xb9, 0x00, 0xca, 0x9a, 0x3b, 0x48,
		0xf7, 0xf9, 0x48, 0x85, 0xd2, 0x79, 0x06, 0x48, 0x01, 0xca, 0x48, 0xff, 0xc8, 0x48, 0x89, 0x06,
		0x48, 0x89, 0x56, 0x08, 0x31, 0xc0, 0xc3,
	},
	codeGTOD: {
		0x57, 0x56, 0x48, 0x83, 0xec, 0x10, 0x31, 0xff, 0x48, 0x89, 0xe6, 0xe8, 0x70, 0xff, 0xff, 0xff,
		0x48, 0x8b, 0x0c, 0x24, 0x4c, 0x8b, 0x44, 0x24, 0x08, 0x48, 0x83, 0xc4, 0x10, 0x5e, 0x5f, 0x48,
		0x85, 0xc0, 0x75, 0x2a, 0x48, 0x85, 0xff, 0x74, 0x14, 0x48, 0x89, 0x0f, 0x4c, 0x89, 0xc0, 0x31,
		0xd2, 0xb9, 0xe8, 0x03, 0x00, 0x00, 0x48, 0xf7, 0xf1, 0x48, 0x89, 0x47, 0x08, 0x48, 0x85, 0xf6,
		0x74, 0x0a, 0x31, 0xff, 0xb8, 0x60, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xc3, 0x31, 0xc0, 0xc3,
	},
	codeTime: {
		0x57, 0x48, 0x83, 0xec, 0x10, 0x31, 0xff, 0x48, 0x89, 0xe6, 0xe8, 0xf1, 0xfe, 0xff, 0xff, 0x48,
		0x8b, 0x04, 0x24, 0x48, 0x83, 0xc4, 0x10, 0x5f, 0x48, 0x85, 0xff, 0x74, 0x03, 0x48, 0x89, 0x07,
		0xc3,
	},
	codeProbe: {0xcc},
}

// pageImage is the first page of ours as written into a process at base.
func pageImage(sites []site, vdso uint64, off Offsets) []byte {
	p := make([]byte, pageSize)
	copy(p, magic)
	binary.LittleEndian.PutUint32(p[0x08:], version)
	binary.LittleEndian.PutUint32(p[offNSites:], uint32(len(sites)))
	binary.LittleEndian.PutUint64(p[offReal:], uint64(off.Realtime))
	binary.LittleEndian.PutUint64(p[offMono:], uint64(off.Monotonic))
	binary.LittleEndian.PutUint64(p[offVDSO:], vdso)
	for i, s := range sites {
		o := offSites + i*siteSize
		binary.LittleEndian.PutUint64(p[o:], s.Addr)
		p[o+8] = byte(len(s.Orig))
		binary.LittleEndian.PutUint16(p[o+10:], uint16(entries[s.Name]))
		copy(p[o+16:o+32], s.Orig)
	}
	for at, c := range code {
		copy(p[at:], c)
	}
	return p
}

// header is what a page of ours says about its patch.
type header struct {
	sites []site
	vdso  uint64
	off   Offsets
}

// parseHeader reads a page header written by pageImage; ok is false if b
// is not one of ours.
func parseHeader(b []byte) (h header, ok bool, err error) {
	if len(b) < headerSize || string(b[:len(magic)]) != magic {
		return h, false, nil
	}
	if v := binary.LittleEndian.Uint32(b[0x08:]); v != version {
		return h, true, fmt.Errorf("page of layout version %d, this chaos knows %d", v, version)
	}
	n := int(binary.LittleEndian.Uint32(b[offNSites:]))
	if n > maxSites {
		return h, true, fmt.Errorf("page lists %d patched sites, at most %d fit", n, maxSites)
	}
	h.off = Offsets{
		Realtime:  time.Duration(binary.LittleEndian.Uint64(b[offReal:])),
		Monotonic: time.Duration(binary.LittleEndian.Uint64(b[offMono:])),
	}
	h.vdso = binary.LittleEndian.Uint64(b[offVDSO:])
	for i := range n {
		o := offSites + i*siteSize
		l := int(b[o+8])
		if l > 16 {
			return h, true, fmt.Errorf("site %d: %d original bytes, at most 16 fit", i, l)
		}
		entry := uint64(binary.LittleEndian.Uint16(b[o+10:]))
		name := ""
		for n, e := range entries {
			if e == entry {
				name = n
			}
		}
		if name == "" {
			return h, true, fmt.Errorf("site %d: entry %#x is none of ours", i, entry)
		}
		h.sites = append(h.sites, site{Name: name, Addr: binary.LittleEndian.Uint64(b[o:]), Orig: append([]byte(nil), b[o+16:o+16+l]...)})
	}
	return h, true, nil
}

// jump is the patch written over a vDSO function: movabs rax, to; jmp rax.
func jump(to uint64) []byte {
	b := []byte{0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xe0}
	binary.LittleEndian.PutUint64(b[2:], to)
	return b
}
