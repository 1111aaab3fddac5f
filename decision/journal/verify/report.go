package verify

import (
	"fmt"
	"io"
	"time"
)

// WriteText writes the report for people: one line per chain, the
// projection check, totals, and a final OK or BROKEN line.
func (r *Report) WriteText(w io.Writer) error {
	var err error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	for _, c := range r.Chains {
		if c.Break != nil {
			p("chain %s: BROKEN: %s\n", c.Chain, c.Break)
			continue
		}
		if c.Entries == 0 && c.Pruned {
			p("chain %s: ok, every entry pruned by retention through the checkpoint at seq %d\n", c.Chain, c.StartedFrom.Seq)
			continue
		}
		p("chain %s: ok, seq %d..%d (%d entries), %d checkpoint(s)", c.Chain, c.First, c.Last, c.Entries, c.Checkpoints)
		if len(c.Gaps) > 0 {
			p(", %d segments between signed checkpoints", len(c.Gaps)+1)
		}
		if c.StartedFrom != nil {
			why := "start of the window or segment"
			if c.Pruned {
				why = "entries before it pruned by retention"
			}
			p(", from the checkpoint at seq %d (%s)", c.StartedFrom.Seq, why)
		}
		switch {
		case c.Sealed:
			p(", sealed\n")
		case c.Unsigned > 0:
			p(", %d entries after the last checkpoint (writer running, or stopped without sealing)\n", c.Unsigned)
		default:
			p("\n")
		}
	}
	if r.Records.Checked == 0 && r.Records.Problems == 0 {
		p("records: not checked\n")
	} else if r.Records.Problems == 0 {
		p("records: %d recomputed from their entries, all match the projection\n", r.Records.Checked)
	} else {
		p("records: %d recomputed, %d do not match the projection\n", r.Records.Checked, r.Records.Problems)
		for _, b := range r.Records.Breaks {
			chain := b.Chain
			if chain == "" {
				chain = "(no chain)"
			}
			p("  first in chain %s: %s\n", chain, b)
		}
	}
	if r.Records.Unchecked > 0 {
		p("records: %d with transition entries not recomputed (no transition rules)\n", r.Records.Unchecked)
	}
	rate := ""
	if s := r.Took.Seconds(); s > 0 {
		rate = fmt.Sprintf(" (%.0f entries/s)", float64(r.Entries)/s)
	}
	p("verified %d entries in %d chain(s) in %s%s\n", r.Entries, len(r.Chains), r.Took.Round(time.Millisecond), rate)
	if r.OK() {
		p("OK\n")
	} else {
		p("BROKEN\n")
	}
	return err
}
