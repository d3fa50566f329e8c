package clockfault

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
)

// vdso is a process's vDSO: where it is mapped, the functions we patch,
// and a syscall instruction in it (to run an injected syscall before our
// page exists).
type vdso struct {
	base    uint64
	funcs   map[string]uint64 // symbol → address, for the symbols in entries
	syscall uint64
}

func findVDSO(pid int, m *mem) (vdso, error) {
	ms, err := maps(pid)
	if err != nil {
		return vdso{}, err
	}
	for _, mp := range ms {
		if mp.name != "[vdso]" {
			continue
		}
		img, err := m.read(mp.lo, int(mp.hi-mp.lo))
		if err != nil {
			return vdso{}, fmt.Errorf("vDSO: %w", err)
		}
		return parseVDSO(mp.lo, img)
	}
	return vdso{}, errors.New("the process maps no [vdso]")
}

func parseVDSO(base uint64, img []byte) (vdso, error) {
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		return vdso{}, fmt.Errorf("vDSO: %w", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		return vdso{}, fmt.Errorf("vDSO is %v: %w", f.Machine, ErrUnsupported)
	}
	var load uint64
	found := false
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			load, found = p.Vaddr-p.Off, true
			break
		}
	}
	if !found {
		return vdso{}, errors.New("vDSO has no PT_LOAD segment")
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		return vdso{}, fmt.Errorf("vDSO symbols: %w", err)
	}
	v := vdso{base: base, funcs: map[string]uint64{}}
	for _, s := range syms {
		if _, ok := entries[s.Name]; !ok || elf.ST_TYPE(s.Info) != elf.STT_FUNC {
			continue
		}
		if s.Size < jumpSize {
			return vdso{}, fmt.Errorf("vDSO %s is %d bytes, too short for a %d-byte jump", s.Name, s.Size, jumpSize)
		}
		v.funcs[s.Name] = base + s.Value - load
	}
	if _, ok := v.funcs["__vdso_clock_gettime"]; !ok {
		return vdso{}, errors.New("vDSO has no __vdso_clock_gettime")
	}
	i := bytes.Index(img, []byte{0x0f, 0x05})
	if i < 0 {
		return vdso{}, errors.New("vDSO holds no syscall instruction")
	}
	v.syscall = base + uint64(i)
	return v, nil
}
