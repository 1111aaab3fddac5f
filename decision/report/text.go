package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes a result as plain-text tables for a terminal.
func WriteText(w io.Writer, r Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }
	switch r := r.(type) {
	case *RestrictionsReport:
		p("%d of %d records restricted access (%s)\n\n", r.Restrictions, r.Records, r.Window())
		p("ACTION\tCOUNT\n")
		for _, c := range r.ByAction {
			p("%s\t%d\n", c.Name, c.Count)
		}
		p("\nEXCEPTION\tCOUNT\n")
		for _, c := range r.ByException {
			p("%s\t%d\n", c.Name, c.Count)
		}
		p("\nPOLICY\tCOUNT\n")
		for _, c := range r.ByPolicy {
			p("%s\t%d\n", c.Name, c.Count)
		}
		p("\n%s\tTOTAL\tACTIONS\tEXCEPTIONS\n", strings.ToUpper(string(r.Bucket)))
		for _, b := range r.Buckets {
			p("%s\t%d\t%s\t%s\n", b.Start, b.Total, joinCounts(b.ByAction), joinCounts(b.ByException))
		}
	case *FulfilmentReport:
		p("CLASS\tANSWERED\tP50\tP95\tMAX\tHELD\tP50\tP95\tMAX\tWAITING\tEXPIRED\n")
		for _, c := range r.Classes {
			p("%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d\t%d\n", dash(c.Class), c.Answered.Count, times(c.Answered, c.Answered.P50),
				times(c.Answered, c.Answered.P95), times(c.Answered, c.Answered.Max), c.Held.Count, times(c.Held, c.Held.P50),
				times(c.Held, c.Held.P95), times(c.Held, c.Held.Max), c.Waiting, c.Expired)
		}
	case *InUseReport:
		p("POLICY\tACTION\tEXCEPTION\tVERSION\tSINCE\tUNTIL\tDAYS\tAPPLIED\tLAST APPLIED\n")
		for _, u := range r.Policies {
			until := "-"
			if u.Until != nil {
				until = day(*u.Until)
			} else if u.Since != nil {
				until = "in force"
			}
			p("%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%d\t%s\n", u.ID, dash(u.Action), dash(u.Exception), dash(u.Version), dayp(u.Since), until,
				u.DaysInForce, u.Applied, dayp(u.LastApplied))
		}
	case *RepeatedReport:
		p("PATIENT\tEXCEPTION\tCOUNT\tFIRST\tLAST\tEXAMPLE\n")
		for _, g := range r.Patients {
			p("%s\t%s\t%d\t%s\t%s\t%s\n", g.Patient, dash(g.Exception), g.Count, stamp(g.First), stamp(g.Last), g.Example)
		}
		p("\nSUBJECT\tCLIENT\tCLASS\tEXCEPTION\tCOUNT\tFIRST\tLAST\tEXAMPLE\n")
		for _, g := range r.Requesters {
			p("%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", dash(g.Subject), dash(g.ClientID), dash(g.Class), dash(g.Exception), g.Count,
				stamp(g.First), stamp(g.Last), g.Example)
		}
	case *ConsistencyReport:
		for _, part := range []struct {
			name string
			gs   []ConsistencyGroup
		}{{"RESOURCE TYPE", r.ByResourceType}, {"DATA CLASS", r.ByDataClass}} {
			p("%s\tCLASS\tRECORDS\tRESTRICTED\tRATE\tSPREAD\n", part.name)
			for _, g := range part.gs {
				for _, c := range g.Classes {
					p("%s\t%s\t%d\t%d\t%.1f%%\t\n", g.Key, dash(c.Class), c.Records, c.Restricted, 100*c.Rate)
				}
				p("%s\tall\t%d\t%d\t%.1f%%\t%.1f\n", g.Key, g.Overall.Records, g.Overall.Restricted, 100*g.Overall.Rate, 100*g.Spread)
			}
			p("\n")
		}
	case Undocumented:
		if len(r) == 0 {
			p("no undocumented restriction in the records\n")
			break
		}
		p("COUNT\tUPSTREAM\tINTERACTION\tTYPE\tCLIENT\tCLASS\tREASON\tFIRST\tLAST\tEXAMPLE\n")
		for _, g := range r {
			status := "-"
			if g.UpstreamStatus != 0 {
				status = strconv.Itoa(g.UpstreamStatus)
			}
			p("%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.Count, status, g.Interaction, dash(g.ResourceType),
				dash(g.ClientID), dash(g.Class), dash(g.Reason), g.First.Format(time.RFC3339), g.Last.Format(time.RFC3339), g.Example)
		}
	case *ReviewsReport:
		p("POLICY\tVERSION\tACTION\tREVIEW BY\tSTATE\n")
		for _, it := range r.Policies {
			p("%s\t%s\t%s\t%s\t%s\n", it.ID, it.Version, it.Action, day(it.ReviewBy), it.State)
		}
		p("\nPOLICY NAMED\tREVIEW OVERDUE\tLAPSED\tLAST\n")
		for _, f := range r.Flagged {
			p("%s\t%d\t%d\t%s\n", f.ID, f.ReviewOverdue, f.Lapsed, dayp(f.Last))
		}
	case *NoticesReport:
		p("%d overdue, %d due within %s, %d pending; %d sent on time, %d sent late\n\n", r.Overdue, r.Due, r.Within, r.Pending, r.SentOnTime, r.SentLate)
		p("DUE\tSTATUS\tDECISION\tRECEIVED\tEXCEPTION\tCLASS\tREQUESTER\n")
		for _, it := range r.Items {
			p("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", stamp(it.DueAt), it.Status, it.Record, stamp(it.ReceivedAt), dash(it.Exception), dash(it.Class), dash(it.Requester))
		}
	default:
		return fmt.Errorf("report: no text form for %T", r)
	}
	return tw.Flush()
}

func joinCounts(cs []Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Name + " " + strconv.FormatInt(c.Count, 10)
	}
	return strings.Join(parts, ", ")
}

func times(t Times, m Millis) string {
	if t.Count == 0 {
		return "-"
	}
	return m.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func dayp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return day(*t)
}
