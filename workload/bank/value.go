package bank

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/chaos-testing/chaos/workload"
)

// The values of bank ops (see package workload for their JSON):
//
//	transfer  invoke Transfer;  ok: the Transfer; fail: insufficient funds
//	read      invoke null;      ok: Balances, every account's

// Transfer is a transfer op's value: move Amount from account From to
// account To. Its JSON is {"from": a, "to": b, "amount": n}.
type Transfer struct {
	// From and To are account numbers; Amount is at least 1.
	From   int   `json:"from"`
	To     int   `json:"to"`
	Amount int64 `json:"amount"`
}

// UnmarshalJSON reads {"from": a, "to": b, "amount": n}: all three, each
// an integer, and no other key.
func (t *Transfer) UnmarshalJSON(b []byte) error {
	var raw struct {
		From   *int   `json:"from"`
		To     *int   `json:"to"`
		Amount *int64 `json:"amount"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil || raw.From == nil || raw.To == nil || raw.Amount == nil {
		return fmt.Errorf(`want {"from": a, "to": b, "amount": n}, got %s`, b)
	}
	t.From, t.To, t.Amount = *raw.From, *raw.To, *raw.Amount
	return nil
}

// Check says what makes t impossible in a bank of accounts accounts: an
// account out of range, a transfer to the same account, a negative
// amount. A client refuses such a transfer without sending it (fail).
func (t Transfer) Check(accounts int) error {
	switch {
	case t.From < 0 || t.From >= accounts || t.To < 0 || t.To >= accounts:
		return fmt.Errorf("accounts must be 0 to %d, got from %d to %d", accounts-1, t.From, t.To)
	case t.From == t.To:
		return errors.New("from and to are the same account")
	case t.Amount < 0:
		return fmt.Errorf("amount must not be negative, got %d", t.Amount)
	}
	return nil
}

// DecodeTransfer returns a transfer's value: a Transfer, or anything
// whose JSON is a transfer's (see Transfer.UnmarshalJSON).
func DecodeTransfer(v any) (Transfer, error) {
	t, err := workload.Decode[Transfer](v)
	if err != nil {
		return Transfer{}, fmt.Errorf("bank transfer: %w", err)
	}
	return t, nil
}

// Balances is a read's value: every account's balance, by account name
// (Account).
type Balances map[string]int64

// Account names account i in Balances: "0", "1", ...
func Account(i int) string { return strconv.Itoa(i) }
