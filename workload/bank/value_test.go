package bank

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTransferDecodingWantsAllThreeIntegers(t *testing.T) {
	b, err := json.Marshal(Transfer{From: 1, To: 2, Amount: 3})
	if err != nil || string(b) != `{"from":1,"to":2,"amount":3}` {
		t.Fatalf("transfer JSON %s, %v", b, err)
	}
	for _, tc := range []struct {
		name string
		v    any
		want Transfer
		bad  bool
	}{
		{"a Transfer", Transfer{0, 1, 5}, Transfer{0, 1, 5}, false},
		{"a history's JSON", json.RawMessage(`{"from":2,"to":0,"amount":1}`), Transfer{2, 0, 1}, false},
		{"a map", map[string]int{"from": 1, "to": 3, "amount": 0}, Transfer{1, 3, 0}, false},
		{"no amount", json.RawMessage(`{"from":2,"to":0}`), Transfer{}, true},
		{"an unknown key", json.RawMessage(`{"from":2,"to":0,"amount":1,"fee":1}`), Transfer{}, true},
		{"a fraction", json.RawMessage(`{"from":2,"to":0,"amount":1.5}`), Transfer{}, true},
		{"a list", []int{1, 2, 3}, Transfer{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeTransfer(tc.v)
			if (err != nil) != tc.bad || got != tc.want {
				t.Fatalf("DecodeTransfer(%#v) = %+v, %v; want %+v (error: %v)", tc.v, got, err, tc.want, tc.bad)
			}
		})
	}
}

func TestTransferCheckRefusesImpossibleTransfers(t *testing.T) {
	for _, tc := range []struct {
		t   Transfer
		err string
	}{
		{Transfer{0, 1, 5}, ""},
		{Transfer{0, 1, 0}, ""},
		{Transfer{0, 3, 1}, "accounts must be 0 to 2"},
		{Transfer{-1, 1, 1}, "accounts must be 0 to 2"},
		{Transfer{1, 1, 1}, "same account"},
		{Transfer{1, 2, -1}, "amount must not be negative"},
	} {
		err := tc.t.Check(3)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%+v: %v, want %q", tc.t, err, tc.err)
		}
	}
}
