package reports_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/internal/testenv"
	"github.com/chaos-testing/chaos/reports"
)

// browser finds a headless-capable Chromium. Without one the screenshot
// test skips on a laptop and fails under CI=true: .ci/run installs
// Debian's chromium package when it is missing.
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if bin, err := exec.LookPath(name); err == nil {
			return bin
		}
	}
	testenv.Need(t, false, "chromium is not installed (apt-get install chromium; .ci/run installs it)")
	return ""
}

// screenshot renders a page offline in headless Chromium at w×h pixels
// and returns the picture. With REPORT_SCREENSHOTS=dir the PNG is kept
// there as name.png, for a person to look at.
func screenshot(t *testing.T, bin, page, name string, w, h int) image.Image {
	t.Helper()
	png := filepath.Join(t.TempDir(), name+".png")
	if dir := os.Getenv("REPORT_SCREENSHOTS"); dir != "" {
		png = filepath.Join(dir, name+".png")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--user-data-dir="+t.TempDir(), "--hide-scrollbars",
		"--screenshot="+png, fmt.Sprintf("--window-size=%d,%d", w, h),
		"file://"+page)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(png)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, out)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s: screenshot is %dx%d, want %dx%d", name, b.Dx(), b.Dy(), w, h)
	}
	return img
}

// TestReportRendersInHeadlessChromium renders report.html and
// timeline.html offline in a real browser and checks the pictures: the
// verdict banner is drawn in the invalid colour near the top, the plots
// put ink below it, the anomaly is framed under the banner, and the
// timeline draws ok ops and outlines the witnesses.
func TestReportRendersInHeadlessChromium(t *testing.T) {
	testenv.Short(t) // a browser takes seconds to start
	bin := browser(t)
	const w = 1400
	invalidRed := func(c color.Color) bool { return near(c, 0xcf, 0x22, 0x2e) }
	green := func(c color.Color) bool {
		r, g, b, _ := c.RGBA()
		return g>>8 > r>>8+40 && g>>8 > b>>8+20
	}

	t.Run("a generated run's report", func(t *testing.T) {
		dir, _, _ := buildRun(t, 800)
		img := screenshot(t, bin, filepath.Join(dir, reports.HTMLFile), "generated-report", w, 2400)
		// The invalid banner (#cf222e) fills a wide strip in the top 250 px.
		if red := count(img, image.Rect(0, 0, w, 250), invalidRed); red < 20000 {
			t.Errorf("only %d pixels of the invalid colour near the top: the verdict banner is not drawn", red)
		}
		// The latency plot draws ok ops in green (#2d8a4e, a little
		// translucent); the quantile and throughput plots green lines.
		if n := count(img, img.Bounds(), green); n < 2000 {
			t.Errorf("only %d pixels of the ok colour: the plots are not drawn", n)
		}
	})

	t.Run("a stale read's report and timeline", func(t *testing.T) {
		dir, _, _ := staleReadRun(t)
		img := screenshot(t, bin, filepath.Join(dir, reports.HTMLFile), "stale-read-report", w, 1800)
		// Under the banner, the anomaly is framed in the invalid colour
		// (a 2 px border and its heading), with its witness table.
		banner := count(img, image.Rect(0, 0, w, 250), invalidRed)
		frame := count(img, image.Rect(0, 250, w, 900), invalidRed)
		t.Logf("%d banner pixels, %d pixels of the anomaly's frame", banner, frame)
		if banner < 20000 || frame < 2000 {
			t.Errorf("banner %d, anomaly frame %d pixels of the invalid colour: want a banner and a framed anomaly below it", banner, frame)
		}
		tl := screenshot(t, bin, filepath.Join(dir, reports.TimelineFile), "stale-read-timeline", 1000, 900)
		// Ok boxes (#c9ebd2) and the witnesses' dark outlines.
		okBox := count(tl, tl.Bounds(), func(c color.Color) bool { return near(c, 0xc9, 0xeb, 0xd2) })
		outline := count(tl, tl.Bounds(), func(c color.Color) bool { return near(c, 0x11, 0x11, 0x11) })
		t.Logf("timeline: %d ok-box pixels, %d outline pixels", okBox, outline)
		if okBox < 3000 || outline < 300 {
			t.Errorf("timeline: %d ok-box pixels, %d outline pixels: want ok ops drawn and witnesses outlined", okBox, outline)
		}
	})
}

func count(img image.Image, r image.Rectangle, ok func(color.Color) bool) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if ok(img.At(x, y)) {
				n++
			}
		}
	}
	return n
}

func near(c color.Color, r, g, b uint8) bool {
	cr, cg, cb, _ := c.RGBA()
	d := func(a uint32, b uint8) bool {
		x := int(a>>8) - int(b)
		return x > -12 && x < 12
	}
	return d(cr, r) && d(cg, g) && d(cb, b)
}
