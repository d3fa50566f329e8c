package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/checker"
)

// JUnit XML, in the shape CI test reporters read (Jenkins, GitLab, GitHub
// actions that publish test results): <testsuites> holds one <testsuite>
// named after the scenario, with one <testcase> per checker. An invalid
// checker has a <failure>; an unknown one has an <error>, so CI never
// passes on unknown. If the run's verdict is worse than its checkers'
// (for instance no checker ran, or the run itself broke), a testcase
// named "run" carries the run's reasons.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes junit.xml.
func (r *Report) WriteJUnit(w io.Writer) error {
	res := r.Results
	name := res.Scenario
	if name == "" {
		name = "chaos"
	}
	suite := junitSuite{
		Name: name,
		Time: jsecs(r.Duration()),
		Properties: []junitProperty{
			{"verdict", res.Valid.String()},
			{"seed", fmt.Sprint(res.Seed)},
			{"ops", fmt.Sprint(len(r.Ops))},
		},
	}
	if !res.Start.IsZero() {
		suite.Timestamp = res.Start.UTC().Format("2006-01-02T15:04:05")
	}
	if r.Dir != "" {
		suite.Properties = append(suite.Properties, junitProperty{"run_dir", r.Dir})
	}
	worst := checker.Valid
	if len(res.Checkers) == 0 {
		worst = checker.Unknown // nothing checked: the run case must say so
	}
	for _, c := range res.Checkers {
		worst = checker.Merge(worst, c.Valid)
		tc := junitCase{Name: c.Checker, Classname: "chaos." + name, Time: jsecs(c.Duration)}
		setProblem(&tc, c.Valid, c.Reasons, r.witnessText(c.Ops))
		if c.Valid == checker.Valid && len(c.Reasons) > 0 {
			tc.SystemOut = strings.Join(c.Reasons, "\n")
		}
		suite.Cases = append(suite.Cases, tc)
	}
	if res.Valid > worst || len(res.Checkers) == 0 {
		tc := junitCase{Name: "run", Classname: "chaos." + name, Time: jsecs(r.Duration())}
		setProblem(&tc, res.Valid, res.Reasons, "")
		suite.Cases = append(suite.Cases, tc)
	}
	if st := endedEarly(res); st != "" {
		// A run that did not run its course is not a pass, whatever was
		// found in what it recorded: a CI job cancelled by its timeout
		// must not go green.
		suite.Properties = append(suite.Properties, junitProperty{"status", st})
		msg := "the run was " + st + ": only what was recorded until then was checked"
		suite.Cases = append(suite.Cases, junitCase{Name: "run-ended", Classname: "chaos." + name, Time: jsecs(r.Duration()),
			Error: &junitProblem{Message: msg, Type: string(res.Status), Text: msg}})
	}
	for _, tc := range suite.Cases {
		suite.Tests++
		if tc.Failure != nil {
			suite.Failures++
		}
		if tc.Error != nil {
			suite.Errors++
		}
	}
	suite.SystemOut = fmt.Sprintf("verdict: %s\nre-check: chaos check %s\n", res.Valid, orDash(r.Dir))
	doc := junitSuites{Name: "chaos", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write %s: %w", JUnitFile, err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write %s: %w", JUnitFile, err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write %s: %w", JUnitFile, err)
	}
	return nil
}

func setProblem(tc *junitCase, v checker.Verdict, reasons []string, extra string) {
	msg := "no reason given"
	if len(reasons) > 0 {
		msg = reasons[0]
	}
	text := strings.Join(clipAll(reasons, maxReasonChars), "\n")
	if extra != "" {
		text += "\n\n" + extra
	}
	switch v {
	case checker.Invalid:
		tc.Failure = &junitProblem{Message: clip(msg, 500), Type: "invalid", Text: text}
	case checker.Unknown:
		tc.Error = &junitProblem{Message: clip(msg, 500), Type: "unknown", Text: text}
	}
}

// witnessText lists a checker's witness ops, one a line.
func (r *Report) witnessText(idx []int64) string {
	if len(idx) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("ops that matter:\n")
	for i, x := range idx {
		if i == maxWitnesses {
			fmt.Fprintf(&b, "... and %d more\n", len(idx)-maxWitnesses)
			break
		}
		if p, ok := r.pos(x); ok {
			b.WriteString(opText(&r.Ops[p]) + "\n")
		} else {
			fmt.Fprintf(&b, "#%d (not in the history)\n", x)
		}
	}
	return b.String()
}

func jsecs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
