package export

import (
	"bufio"
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"time"

	"github.com/ehigate/ehigate/decision"
)

// Summary is what report.html shows, computed from the package's records.
type Summary struct {
	Window    Window
	Filter    Filter
	CreatedAt time.Time
	// Records counts the records; Restrictions those whose action
	// restricts access (deny, delay, throttle, redact).
	Records, Restrictions           int
	ByAction, ByException, ByPolicy []Count
	// ByClass is each requester class's records and restrictions, the
	// rate a reviewer compares to see consistent application.
	ByClass []ClassCount
	// Patients and RestrictedPatients count the distinct patients named
	// by the records and by the restricted ones.
	Patients, RestrictedPatients int
	// Undocumented counts restrictions no policy documents (upstream
	// refusals flagged undocumented); UpstreamRestrictions every refusal
	// the upstream made on its own.
	Undocumented, UpstreamRestrictions int
	// ReviewOverdue counts records touched by a policy past its review
	// date; OverdueByPolicy names those policies; Lapsed counts records
	// where an overdue policy lapsed.
	ReviewOverdue   int
	OverdueByPolicy []Count
	Lapsed          int
	// NoticesRequired and NoticesSent count written responses owed and
	// marked sent.
	NoticesRequired, NoticesSent int

	actions, exceptions, policies, overdue map[string]int
	classes                                map[string]*ClassCount
	patients, restricted                   map[string]struct{}
}

// Count is a name and how many records it has.
type Count struct {
	Name  string
	Count int
}

// ClassCount is a requester class's records and restrictions.
type ClassCount struct {
	Class                 string
	Records, Restrictions int
}

// Rate is the share of the class's records that were restricted, in
// percent.
func (c ClassCount) Rate() float64 {
	if c.Records == 0 {
		return 0
	}
	return 100 * float64(c.Restrictions) / float64(c.Records)
}

func newSummary(m *Manifest) *Summary {
	return &Summary{Window: m.Window, Filter: m.Filter, CreatedAt: m.CreatedAt,
		actions: map[string]int{}, exceptions: map[string]int{}, policies: map[string]int{}, overdue: map[string]int{},
		classes: map[string]*ClassCount{}, patients: map[string]struct{}{}, restricted: map[string]struct{}{}}
}

// add counts one record.
func (s *Summary) add(r *decision.Record) {
	s.Records++
	restricted := r.Action.Restricts()
	s.actions[r.Action.String()]++
	class := string(r.Requester.Class)
	if class == "" {
		class = "(unclassified)"
	}
	c := s.classes[class]
	if c == nil {
		c = &ClassCount{Class: class}
		s.classes[class] = c
	}
	c.Records++
	if restricted {
		s.Restrictions++
		c.Restrictions++
		if r.Exception != nil {
			s.exceptions[r.Exception.Code]++
		}
	}
	for _, p := range r.Policies {
		if restricted && p.Action == r.Action && !p.Lapsed {
			s.policies[p.ID+"@"+p.Version]++
		}
		if p.ReviewOverdue {
			s.overdue[p.ID+"@"+p.Version]++
		}
	}
	for _, p := range r.Patients {
		s.patients[p] = struct{}{}
		if restricted {
			s.restricted[p] = struct{}{}
		}
	}
	for _, f := range r.Flags {
		switch f {
		case decision.FlagUndocumented:
			s.Undocumented++
		case decision.FlagUpstreamRestriction:
			s.UpstreamRestrictions++
		case decision.FlagReviewOverdue:
			s.ReviewOverdue++
		case decision.FlagPolicyLapsed:
			s.Lapsed++
		case decision.FlagNoticeRequired:
			s.NoticesRequired++
		case decision.FlagNoticeSent:
			s.NoticesSent++
		}
	}
}

// finish turns the tallies into sorted lists.
func (s *Summary) finish() {
	s.ByAction, s.ByException, s.ByPolicy, s.OverdueByPolicy = counts(s.actions), counts(s.exceptions), counts(s.policies), counts(s.overdue)
	s.ByClass = s.ByClass[:0]
	for _, c := range s.classes {
		s.ByClass = append(s.ByClass, *c)
	}
	slices.SortFunc(s.ByClass, func(a, b ClassCount) int { return cmp.Compare(a.Class, b.Class) })
	s.Patients, s.RestrictedPatients = len(s.patients), len(s.restricted)
}

// counts sorts a tally by count, largest first, then by name.
func counts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out
}

//go:embed report.html
var reportText string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "open"
		}
		return t.UTC().Format(time.RFC3339)
	},
	"pct": func(f float64) string { return fmt.Sprintf("%.1f%%", f) },
}).Parse(reportText))

// WriteSummaryHTML is the default report.html: counts by action,
// exception, policy and requester class, undocumented and upstream
// restrictions, and overdue reviews.
func WriteSummaryHTML(w io.Writer, s *Summary) error {
	bw := bufio.NewWriter(w)
	if err := reportTemplate.Execute(bw, s); err != nil {
		return fmt.Errorf("export: report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: report: %w", err)
	}
	return nil
}

// writeReport writes report.html with the configured ReportFunc.
func (x *exporter) writeReport() error {
	x.sum.finish()
	f, err := x.zw.create(FileReport)
	if err != nil {
		return err
	}
	return x.opts.Report(f, x.sum)
}
