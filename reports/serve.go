package reports

import (
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/runstore"
)

// runsPrefix is where the handler serves the store's files.
const runsPrefix = "/runs/"

// Handler serves a store for browsing, read-only: "/" lists every run,
// newest first, coloured by verdict, with links to its report.html and its
// files; runsPrefix serves files inside storeDir and nothing outside it
// (no "..", no symlink that leads out). Only GET and HEAD are allowed.
func Handler(storeDir string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) { serveIndex(w, r, storeDir) })
	mux.HandleFunc(runsPrefix, func(w http.ResponseWriter, r *http.Request) { serveFile(w, r, storeDir) })
	return readOnly(mux)
}

func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "read-only: only GET and HEAD are allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// textTypes are served as plain text so that browsers show them.
var textTypes = map[string]bool{".jsonl": true, ".log": true, ".yaml": true, ".yml": true, ".md": true, ".txt": true}

func serveFile(w http.ResponseWriter, r *http.Request, storeDir string) {
	root, err := os.OpenRoot(storeDir)
	if err != nil {
		http.Error(w, "store not readable: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer root.Close()
	if textTypes[strings.ToLower(path.Ext(r.URL.Path))] {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	// Pages in the store may run their own inline scripts (porcupine's
	// visualisations) but may not reach the network.
	w.Header().Set("Content-Security-Policy", "default-src 'self' 'unsafe-inline' data:")
	fsys := confined{root.FS()}
	http.StripPrefix(strings.TrimSuffix(runsPrefix, "/"), http.FileServerFS(fsys)).ServeHTTP(w, r)
}

// confined reports every error other than "not found" as "permission
// denied", so that a path escaping the store is refused with 403.
type confined struct{ fs.FS }

// Open implements fs.FS.
func (c confined) Open(name string) (fs.File, error) {
	f, err := c.FS.Open(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f, err
}

// indexRow is one run on the index page.
type indexRow struct {
	Verdict, Status, Scenario, Stamp, When, Ops, Duration, Reason string
	Report, Files                                                 string
}

func serveIndex(w http.ResponseWriter, r *http.Request, storeDir string) {
	entries, err := runstore.List(storeDir)
	data := struct {
		Store string
		Error string
		Runs  []indexRow
	}{Store: storeDir}
	if err != nil {
		data.Error = err.Error()
	}
	for _, e := range entries {
		row := indexRow{Scenario: e.Scenario, Stamp: e.Stamp, When: e.Stamp, Verdict: "none"}
		base := runsPrefix + url.PathEscape(e.Scenario) + "/" + url.PathEscape(e.Stamp) + "/"
		row.Files = base
		if _, err := os.Stat(filepath.Join(e.Dir, HTMLFile)); err == nil {
			row.Report = base + HTMLFile
		}
		if e.Results != nil {
			res := e.Results
			row.Verdict = res.Valid.String()
			row.Status = endedEarly(res)
			row.Ops = strconv.Itoa(res.Ops)
			if !res.Start.IsZero() {
				row.When = res.Start.UTC().Format("2006-01-02 15:04:05 UTC")
			}
			if res.End.After(res.Start) && !res.Start.IsZero() {
				row.Duration = res.End.Sub(res.Start).Round(time.Second).String()
			}
			if len(res.Reasons) > 0 {
				row.Reason = clip(res.Reasons[0], 300)
			}
		} else if e.Err != nil {
			row.Reason = "no results: " + clip(e.Err.Error(), 300)
		}
		data.Runs = append(data.Runs, row)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	if err := indexTmpl.Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

var indexTmpl = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chaos runs</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1f2328}
main{max-width:1200px;margin:0 auto;padding:16px 24px}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{border-bottom:1px solid #d0d7de;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:4px;padding:0 6px;color:#fff;font-weight:600;font-size:.85em;text-transform:uppercase}
.v-valid{background:#1a7f37}.v-invalid{background:#cf222e}.v-unknown{background:#9a6700}.v-none{background:#6e7781}
tr.r-valid td:first-child{border-left:4px solid #1a7f37}
tr.r-invalid td:first-child{border-left:4px solid #cf222e}
tr.r-unknown td:first-child{border-left:4px solid #9a6700}
tr.r-none td:first-child{border-left:4px solid #6e7781}
.muted{color:#656d76}
</style>
</head>
<body>
<main>
<h1>chaos runs</h1>
<p class="muted">Store: {{.Store}} — newest first.</p>
{{if .Error}}<p>Cannot list the store: {{.Error}}</p>{{end}}
{{if .Runs}}<table>
<tr><th>verdict</th><th>scenario</th><th>started</th><th>history events</th><th>took</th><th>reason</th><th>links</th></tr>
{{range .Runs}}<tr class="run r-{{.Verdict}}"><td><span class="badge v-{{.Verdict}}">{{.Verdict}}</span>{{if .Status}} <span class="badge v-none">{{.Status}}</span>{{end}}</td><td>{{.Scenario}}</td><td>{{.When}}</td><td class="num">{{.Ops}}</td><td>{{.Duration}}</td><td>{{.Reason}}</td><td>{{if .Report}}<a href="{{.Report}}">report</a> · {{end}}<a href="{{.Files}}">files</a></td></tr>
{{end}}</table>{{else}}{{if not .Error}}<p>No runs yet.</p>{{end}}{{end}}
</main>
</body>
</html>
`))
