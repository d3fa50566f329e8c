package clockfault

import (
	"context"
	"errors"
	"testing"
	"time"
)

type fakeSetter struct {
	got  []Offsets
	fail int // the call (1-based) that fails; 0: none
}

func (f *fakeSetter) Set(o Offsets) error {
	f.got = append(f.got, o)
	if len(f.got) == f.fail {
		return errors.New("write failed")
	}
	return nil
}

// TestStrobeFlipsThenLeavesEverySetterAtTheFirstOffsets: flips alternate
// from b, are counted, and every setter ends at a, whether the strobe ran
// out, its context ended, or a flip failed.
func TestStrobeFlipsThenLeavesEverySetterAtTheFirstOffsets(t *testing.T) {
	a, b := Offsets{}, Offsets{Realtime: time.Second}
	for _, tc := range []struct {
		name     string
		fail     int
		cancel   bool
		minFlips int
		wantErr  bool
	}{
		{name: "runs out", minFlips: 2},
		{name: "context ends", cancel: true},
		{name: "a flip fails", fail: 2, minFlips: 1, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := []*fakeSetter{{fail: tc.fail}, {}}
			ctx, cancel := context.WithCancel(context.Background())
			if tc.cancel {
				cancel()
			}
			defer cancel()
			flips, err := Strobe(ctx, ss, a, b, time.Millisecond, 50*time.Millisecond)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if flips < tc.minFlips || tc.cancel && flips != 0 {
				t.Errorf("%d flips, want at least %d", flips, tc.minFlips)
			}
			for i, s := range ss {
				if len(s.got) == 0 || s.got[len(s.got)-1] != a {
					t.Fatalf("setter %d: %v, want it left at %v", i, s.got, a)
				}
				for j, o := range s.got[:len(s.got)-1] {
					if want := []Offsets{b, a}[j%2]; o != want {
						t.Errorf("setter %d: flip %d to %v, want %v", i, j, o, want)
					}
				}
			}
			if tc.fail == 0 && len(ss[0].got) != flips+1 {
				t.Errorf("%d sets for %d flips, want flips+1", len(ss[0].got), flips)
			}
		})
	}
}
