package reports_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/reports"
	"github.com/chaos-testing/chaos/runstore"
)

const secret = "TOP-SECRET-OUTSIDE-THE-STORE"

// makeStore lays out a store with three runs of two scenarios (one without
// results), a file outside the store, and a symlink leading to it.
func makeStore(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "store")
	if err := os.WriteFile(filepath.Join(base, "secret.txt"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	runs := []struct {
		scenario string
		offset   time.Duration
		verdict  checker.Verdict
		reason   string
		noResult bool
	}{
		{"bank", 0, checker.Valid, "", false},
		{"register", time.Hour, checker.Invalid, "linearizable: key <b>k1</b>: impossible read", false},
		{"bank", 2 * time.Hour, checker.Unknown, "checker timed out", false},
		{"register", 3 * time.Hour, 0, "", true},
	}
	for _, r := range runs {
		run, err := runstore.Create(root, r.scenario, at.Add(r.offset))
		if err != nil {
			t.Fatal(err)
		}
		if r.noResult {
			continue
		}
		res := &runstore.Results{Valid: r.verdict, Scenario: r.scenario, Start: at.Add(r.offset), End: at.Add(r.offset + time.Minute), Ops: 1000 + int(r.offset/time.Hour)}
		if r.reason != "" {
			res.Reasons = []string{r.reason}
		}
		if r.verdict == checker.Unknown {
			res.Status, res.Signal = runstore.Interrupted, "SIGTERM"
		}
		if err := runstore.WriteResults(run.Dir, res); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(run.Path(reports.HTMLFile), []byte("<html>report of "+r.scenario+"</html>"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(root, "bank", "leak.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(base, filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	return root
}

// get sends a request with the path exactly as given (no client-side
// cleaning), without following redirects.
func get(t *testing.T, srv *httptest.Server, method, rawPath string) (int, string) {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = "//" + u.Host + rawPath
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHandlerListsRunsNewestFirstColouredByVerdict(t *testing.T) {
	root := makeStore(t)
	srv := httptest.NewServer(reports.Handler(root))
	defer srv.Close()
	code, page := get(t, srv, "GET", "/")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	// Rows in order, newest first, each with its verdict's class.
	want := []string{
		`<tr class="run r-none">`,    // register, 06:04, no results yet
		`<tr class="run r-unknown">`, // bank, 05:04
		`<tr class="run r-invalid">`, // register, 04:04
		`<tr class="run r-valid">`,   // bank, 03:04
	}
	last := -1
	for _, w := range want {
		i := strings.Index(page, w)
		if i < 0 {
			t.Fatalf("index lacks %q\n%s", w, page)
		}
		if i < last {
			t.Errorf("%q is out of order (newest first)", w)
		}
		last = i
	}
	for _, s := range []string{
		".v-invalid{background:#cf222e}", ".v-valid{background:#1a7f37}", ".v-unknown{background:#9a6700}",
		"2025-01-02 04:04:05 UTC", "1001", // start and ops of the invalid run
		"linearizable: key &lt;b&gt;k1&lt;/b&gt;: impossible read", // first reason, escaped
		`href="/runs/register/20250102T040405.000Z/report.html"`,
		`href="/runs/register/20250102T040405.000Z/"`,
		"no results: read results",                                 // the run in progress says why
		`<span class="badge v-none">interrupted by SIGTERM</span>`, // the unknown bank run was stopped
	} {
		if !strings.Contains(page, s) {
			t.Errorf("index lacks %q", s)
		}
	}
}

func TestHandlerServesStoreFilesReadOnlyAndRefusesTraversal(t *testing.T) {
	root := makeStore(t)
	srv := httptest.NewServer(reports.Handler(root))
	defer srv.Close()

	code, body := get(t, srv, "GET", "/runs/register/20250102T040405.000Z/report.html")
	if code != http.StatusOK || !strings.Contains(body, "report of register") {
		t.Errorf("report.html: %d %q", code, body)
	}
	code, body = get(t, srv, "GET", "/runs/latest/")
	if code != http.StatusOK || !strings.Contains(body, `href="nodes/"`) {
		t.Errorf("latest/results.json through the store's own symlink: %d %q", code, body)
	}
	code, body = get(t, srv, "GET", "/runs/bank/")
	if code != http.StatusOK || !strings.Contains(body, "20250102T030405.000Z") {
		t.Errorf("folder listing: %d %q", code, body)
	}

	for _, p := range []string{
		"/runs/../secret.txt",
		"/runs/%2e%2e/secret.txt",
		"/runs/bank/..%2f..%2fsecret.txt",
		"/runs/bank/%2e%2e/%2e%2e/secret.txt",
		"/runs/..%5csecret.txt",
		"/runs/bank/leak.txt",     // symlink to a file outside
		"/runs/escape/secret.txt", // symlink to a folder outside
		"/../secret.txt",
	} {
		code, body := get(t, srv, "GET", p)
		if code == http.StatusOK || strings.Contains(body, secret) {
			t.Errorf("GET %s = %d, body %q: a file outside the store was served", p, code, body)
		}
		if code >= 500 {
			t.Errorf("GET %s = %d, want a 3xx/4xx refusal", p, code)
		}
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		if code, _ := get(t, srv, m, "/runs/register/20250102T040405.000Z/report.html"); code != http.StatusMethodNotAllowed {
			t.Errorf("%s = %d, want 405", m, code)
		}
	}
}
