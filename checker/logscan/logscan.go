// Package logscan fails a run whose node logs show trouble: it scans the
// files <run folder>/nodes/<node>/*.log for configured regular expressions
// (by default Go panics, fatal runtime errors, data races and "data
// corruption") and reports node, file, line number and line of each match.
package logscan

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/chaos-testing/chaos/checker"
)

// DefaultPatterns are scanned for when Options.Patterns is empty.
var DefaultPatterns = []string{`panic:`, `fatal error:`, `(?i)data corruption`, `DATA RACE`}

// NodesDir is the folder of per-node logs inside a run folder.
const NodesDir = "nodes"

// maxLine bounds how much of a long line is kept for matching and
// reporting.
const maxLine = 64 << 10

// Options configure the log scanner.
type Options struct {
	// Patterns are regular expressions (Go syntax) matched against each
	// line. Default DefaultPatterns.
	Patterns []string
	// Glob selects the files in each node's folder. Default "*.log".
	Glob string
	// MaxMatches bounds how many matches are spelled out. Default 20.
	MaxMatches int
}

// Checker is the log-pattern checker.
type Checker struct {
	o  Options
	re []*regexp.Regexp
}

// New compiles the patterns; a bad pattern is an error naming it.
func New(o Options) (*Checker, error) {
	if len(o.Patterns) == 0 {
		o.Patterns = DefaultPatterns
	}
	if o.Glob == "" {
		o.Glob = "*.log"
	}
	if _, err := filepath.Match(o.Glob, ""); err != nil {
		return nil, fmt.Errorf("log scan: glob %q: %w", o.Glob, err)
	}
	if o.MaxMatches <= 0 {
		o.MaxMatches = 20
	}
	c := &Checker{o: o}
	for i, p := range o.Patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("log scan: pattern %d %q: %w", i+1, p, err)
		}
		c.re = append(c.re, re)
	}
	return c, nil
}

// Name returns "log-patterns".
func (c *Checker) Name() string { return "log-patterns" }

// Match is one log line that matched a pattern.
type Match struct {
	// Node is the node's folder name.
	Node string `json:"node"`
	// File is the log file, relative to the run folder.
	File string `json:"file"`
	// Line is the line number, from 1.
	Line int `json:"line"`
	// Pattern is the pattern that matched.
	Pattern string `json:"pattern"`
	// Text is the line, clipped to 300 bytes.
	Text string `json:"text"`
}

// String renders the match for a reason.
func (m Match) String() string {
	return fmt.Sprintf("node %s: %s:%d matches %q: %s", m.Node, m.File, m.Line, m.Pattern, m.Text)
}

// Check scans the node logs under in.Dir.
func (c *Checker) Check(ctx context.Context, in *checker.Input) checker.Result {
	res := checker.Result{Checker: c.Name()}
	if in.Dir == "" {
		res.Valid = checker.Unknown
		res.Reasons = []string{"no run folder, so no node log was scanned"}
		return res
	}
	root := filepath.Join(in.Dir, NodesDir)
	nodes, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		res.Valid = checker.Unknown
		res.Reasons = []string{fmt.Sprintf("cannot list node logs: %v", err)}
		return res
	}
	var files []string
	for _, n := range nodes {
		if !n.IsDir() {
			continue
		}
		m, _ := filepath.Glob(filepath.Join(root, n.Name(), c.o.Glob))
		files = append(files, m...)
	}
	slices.Sort(files)
	if len(files) == 0 {
		res.Valid = checker.Unknown
		res.Reasons = []string{fmt.Sprintf("no node log (%s) under %s: nothing was scanned", c.o.Glob, root)}
		return res
	}
	var matches []Match
	counts := make(map[string]int, len(c.re))
	lines := 0
	for _, f := range files {
		if ctx.Err() != nil {
			res.Valid = checker.Unknown
			res.Reasons = []string{fmt.Sprintf("stopped before scanning every log: %v", ctx.Err())}
			return res
		}
		rel, _ := filepath.Rel(in.Dir, f)
		node := filepath.Base(filepath.Dir(f))
		n, err := c.scan(f, func(line int, text string, re *regexp.Regexp) {
			counts[re.String()]++
			if len(matches) < c.o.MaxMatches {
				matches = append(matches, Match{Node: node, File: rel, Line: line, Pattern: re.String(), Text: clip(text)})
			}
		})
		lines += n
		if err != nil {
			res.Valid = checker.Unknown
			res.Reasons = append(res.Reasons, fmt.Sprintf("cannot read %s: %v", rel, err))
		}
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	res.Details = map[string]any{"files": len(files), "lines": lines, "matches": total, "by_pattern": counts, "first_matches": matches}
	if total > 0 {
		res.Valid = checker.Invalid
		res.Reasons = append(res.Reasons, checker.Plural(total, "log line matches", "log lines match")+" trouble patterns")
		for _, m := range matches {
			res.Reasons = append(res.Reasons, m.String())
		}
		if total > len(matches) {
			res.Reasons = append(res.Reasons, "… and "+checker.Plural(total-len(matches), "more matching line", "more matching lines"))
		}
	}
	return res
}

// scan calls match for each line of path that matches a pattern (the
// first pattern that matches), and returns the number of lines.
func (c *Checker) scan(path string, match func(line int, text string, re *regexp.Regexp)) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 256<<10)
	var buf []byte
	n := 0
	for {
		frag, isPrefix, err := r.ReadLine()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if len(buf) < maxLine {
			buf = append(buf, frag[:min(len(frag), maxLine-len(buf))]...)
		}
		if isPrefix {
			continue
		}
		n++
		for _, re := range c.re {
			if re.Match(buf) {
				match(n, string(buf), re)
				break
			}
		}
		buf = buf[:0]
	}
}

// clip shortens a line for a message.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		return strings.ToValidUTF8(s[:300], "") + "…"
	}
	return s
}
