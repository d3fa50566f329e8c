package reports

import (
	"strconv"

	"github.com/chaos-testing/chaos/checker/availability"
)

// availRow is one fault's availability figures over every client op, as
// report.html and summary.md show them.
type availRow struct {
	N                                int
	Fault, From, To                  string
	Before, During, After            string
	Availability, Recovery, Gap, P99 string
}

// availabilityRows are the rows of the availability table, one per fault
// (at most maxFaultRows), from r.Availability.
func (r *Report) availabilityRows(limit int) (rows []availRow, more int) {
	for i, f := range r.Availability.Faults {
		if i == limit {
			return rows, len(r.Availability.Faults) - limit
		}
		fig := f.ByF[availability.All]
		if fig == nil {
			continue
		}
		row := availRow{N: i + 1, Fault: clip(f.Label(), 160), From: fixed(f.Start, 1), To: fixed(f.End, 1),
			Before: rate(fig.Before), During: rate(fig.During), After: "—", Availability: "—",
			Gap: fixed(fig.LongestGap, 1) + " s", P99: fixed(fig.During.P99, 0)}
		if f.Uncertain {
			row.Fault += " (may not have applied)"
		}
		if fig.After != nil {
			row.After = rate(*fig.After)
		}
		if fig.Availability != nil {
			row.Availability = fixed(*fig.Availability, 0) + " %"
		}
		switch {
		case fig.Recovery != nil:
			row.Recovery = fixed(*fig.Recovery, 1) + " s"
		case fig.NotRecoveredFor != nil:
			row.Recovery = "> " + fixed(*fig.NotRecoveredFor, 1) + " s"
		default:
			row.Recovery = "not measured: " + fig.RecoveryNote
		}
		rows = append(rows, row)
	}
	return rows, 0
}

func rate(s availability.Span) string { return fixed(s.OKRate, 1) }

func fixed(x float64, prec int) string { return strconv.FormatFloat(x, 'f', prec, 64) }
