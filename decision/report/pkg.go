package report

import (
	"context"
	"io"

	"github.com/ehigate/ehigate/decision/export"
	"github.com/ehigate/ehigate/decision/policy"
)

// PackageTitle heads the report.html of audit packages.
const PackageTitle = "Audit package report"

// PackageReport returns the writer of an audit package's report.html
// (export.Options.Report): every report kind over the package's window
// and filter, read from src, with set the policy set in force (optional).
func PackageReport(ctx context.Context, src Source, set *policy.Set) export.ReportFunc {
	return func(w io.Writer, s *export.Summary) error {
		p := Params{From: s.Window.From, To: s.Window.To, Now: s.CreatedAt, Policies: set,
			Filter: Filter{Patient: s.Filter.Patient, Requester: s.Filter.Requester, Policy: s.Filter.Policy}}
		rs, err := All(ctx, src, p)
		if err != nil {
			return err
		}
		return WriteHTML(w, PackageTitle, s.CreatedAt, rs...)
	}
}
