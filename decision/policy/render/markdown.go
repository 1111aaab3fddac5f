package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Markdown writes the written policy as plain Markdown.
func Markdown(w io.Writer, in Input) error {
	d := build(in)
	m := &mdWriter{w: bufio.NewWriter(w)}
	m.line("# " + esc(d.Title))
	m.blank()
	if d.Scope != "" {
		m.para(esc(d.Scope))
	}
	meta := fmt.Sprintf("%d documented restriction(s)", len(d.Restrictions))
	if d.AsOf != "" {
		meta += "; reviews assessed as of " + d.AsOf
	}
	if d.Catalog != "" {
		meta += "; exception catalog " + esc(d.Catalog)
	}
	m.para(meta + ".")
	if d.PolicySet != "" {
		m.para("Policy set `" + d.PolicySet + "`.")
	}
	if d.Overdue > 0 {
		m.para(fmt.Sprintf("**%d restriction(s) are past their review date: marked OVERDUE below.**", d.Overdue))
	}
	for _, e := range d.Restrictions {
		m.line("- " + esc(e.ID) + " (" + e.Action + ", " + esc(e.Exception.Code) + ")" + when(e.Overdue, " **review overdue**"))
	}
	m.blank()
	for _, e := range d.Restrictions {
		m.entry(e)
	}
	if len(d.Allows) > 0 {
		m.line("## Policies that allow access")
		m.blank()
		for _, e := range d.Allows {
			m.line("- `" + e.ID + "` version " + esc(e.Version) + when(e.Description != "", ": "+esc(e.Description)))
		}
		m.blank()
	}
	if len(d.Retired) > 0 {
		m.line("## Policies no longer in force")
		m.blank()
		for _, r := range d.Retired {
			m.line("- `" + r.ID + "` version " + esc(r.Version) + ", in force until " + r.Until)
		}
		m.blank()
	}
	if m.err == nil {
		m.err = m.w.Flush()
	}
	if m.err != nil {
		return fmt.Errorf("render: markdown: %w", m.err)
	}
	return nil
}

func (m *mdWriter) entry(e *entry) {
	state := ""
	switch {
	case e.Overdue:
		state = " — **REVIEW OVERDUE**"
	case e.DueSoon:
		state = " — review due"
	}
	m.line("## " + esc(e.ID) + " (version " + esc(e.Version) + ", " + e.Action + ")" + state)
	m.blank()
	if e.Description != "" {
		m.para(esc(e.Description))
	}
	x := e.Exception
	facts := []pair{
		{"Exception", esc(x.Title) + " (`" + x.Code + "`)" + when(x.CFR != "", ", "+esc(x.CFR))},
		{"Decided by", esc(e.Decider)},
		{"Decided on", e.DecidedAt},
		{"Next review", e.ReviewBy + when(e.ReviewState != "", " ("+e.ReviewState+")")},
	}
	if e.Source != "" {
		facts = append(facts, pair{"Policy file", "`" + e.Source + "`"})
	}
	if e.SHA256 != "" {
		facts = append(facts, pair{"Text SHA-256", "`" + e.SHA256 + "`"})
	}
	for _, f := range facts {
		m.line("- **" + f.Name + ":** " + f.Value)
	}
	m.blank()
	m.line("### Exception relied on")
	m.blank()
	text := esc(x.Title) + " — `" + x.Code + "`" + when(x.CFR != "", ", "+esc(x.CFR))
	if x.Parent != "" {
		text += ", under the " + esc(x.Parent) + " (" + esc(x.ParentCFR) + ")"
	}
	if x.Status != "" && x.Status != "in_force" {
		text += ". **Catalog status: " + x.Status + "**"
	}
	m.para(text + ".")
	if len(x.Requires) > 0 {
		m.para("What the exception requires:")
		m.pairs(x.Requires, false)
	}
	if x.Duty != "" {
		m.para("Notice duty: " + esc(x.Duty))
	}
	if len(e.Documented) > 0 {
		m.line("### Conditions documented")
		m.blank()
		m.pairs(e.Documented, true)
	}
	m.section("Rationale", e.Rationale)
	m.section("Scope", e.EHIScope)
	m.pairs(e.Match, true)
	m.section("Minimum necessary", e.MinimumNecessary)
	if len(e.Parameters) > 0 {
		m.line("### How it is applied")
		m.blank()
		m.pairs(e.Parameters, true)
	}
	if len(e.Evidence) > 0 {
		m.line("### Evidence")
		m.blank()
		for _, ev := range e.Evidence {
			m.line("- " + esc(ev))
		}
		m.blank()
	}
	if len(e.Notice) > 0 {
		m.line("### What the requester is told")
		m.blank()
		m.pairs(e.Notice, true)
	}
	m.line("### Reviews")
	m.blank()
	if len(e.Reviews) == 0 {
		m.para("No review since the decision.")
	} else {
		m.line("| Date | By | Outcome | Notes |")
		m.line("|---|---|---|---|")
		for _, r := range e.Reviews {
			m.line("| " + r.At + " | " + cell(r.By) + " | " + cell(r.Outcome) + " | " + cell(r.Notes) + " |")
		}
		m.blank()
	}
	next := "Next review by " + e.ReviewBy
	if e.Overdue {
		next += ": **" + e.ReviewState + "**"
	} else if e.ReviewState != "" {
		next += " (" + e.ReviewState + ")"
	}
	m.para(next + ".")
	m.line("### Version history")
	m.blank()
	if len(e.History) == 0 {
		m.para("No version of this policy is recorded in the journal as having been in force.")
	} else {
		m.line("| Version | Text SHA-256 | In force from | Until |")
		m.line("|---|---|---|---|")
		for _, h := range e.History {
			v := cell(h.Version)
			if h.Documented {
				v = "**" + v + "**"
			}
			m.line("| " + v + " | `" + h.SHA256 + "` | " + h.From + " | " + h.To + " |")
		}
		m.blank()
	}
}

// mdWriter writes Markdown lines, keeping the first error.
type mdWriter struct {
	w   *bufio.Writer
	err error
}

func (m *mdWriter) line(s string) {
	if m.err == nil {
		_, m.err = m.w.WriteString(s + "\n")
	}
}

func (m *mdWriter) blank() { m.line("") }

func (m *mdWriter) para(s string) {
	m.line(s)
	m.blank()
}

func (m *mdWriter) section(title, text string) {
	m.line("### " + title)
	m.blank()
	if text = strings.TrimSpace(text); text != "" {
		m.para(esc(text))
	}
}

// pairs writes a list of name: value items; escape escapes the names.
func (m *mdWriter) pairs(ps []pair, escape bool) {
	for _, p := range ps {
		name := p.Name
		if escape {
			name = esc(name)
		}
		m.line("- **" + name + ":** " + esc(p.Value))
	}
	m.blank()
}

// mdSpecial are the characters that Markdown could read as markup.
var mdSpecial = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`, `<`, `\<`, `>`, `\>`, `#`, `\#`, `|`, `\|`,
	"\r\n", " ", "\n", " ", "\r", " ")

// esc escapes text for Markdown and keeps it on one line.
func esc(s string) string { return mdSpecial.Replace(s) }

// cell escapes text for a table cell.
func cell(s string) string { return esc(s) }

func when(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}
