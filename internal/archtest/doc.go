// Package archtest holds the test that keeps ARCHITECTURE.md's import rules
// true: which chaos package may import which.
package archtest
