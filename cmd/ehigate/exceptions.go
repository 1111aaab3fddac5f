package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/ehigate/ehigate/decision/exceptions"
)

// runExceptions lists the exception catalog: every code a policy may
// cite, its CFR paragraph, status and notice deadline; --code shows one
// entry with the documentation it requires; --format yaml prints the
// catalog file itself.
func runExceptions(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("exceptions", stderr)
	code := fs.String("code", "", "show one exception or sub-condition in full")
	format := fs.String("format", "table", "output `format`: table or yaml")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cat, err := exceptions.Load()
	if err != nil {
		return err
	}
	switch {
	case *format == "yaml":
		_, err := stdout.Write(exceptions.Source())
		return err
	case *format != "table":
		fmt.Fprintln(stderr, "ehigate exceptions: --format must be table or yaml")
		return errUsage
	case *code != "":
		e, err := cat.Lookup(*code)
		if err != nil {
			return err
		}
		printEntry(stdout, e)
		return nil
	}
	fmt.Fprintf(stdout, "exception catalog %s (as of %s)\n\n", cat.Version(), cat.AsOf)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tCFR\tSTATUS\tCITABLE\tNOTICE DEADLINE\tTITLE")
	for _, e := range cat.All() {
		deadline := "-"
		if d := e.Duty(); d != nil && d.Deadline != nil {
			deadline = d.Deadline.String()
		}
		citable := "yes"
		switch {
		case e.Redirect != "":
			citable = "no: cite " + e.Redirect
		case !e.Citable():
			citable = "no: cite a sub-condition"
		}
		indent := ""
		if e.Parent() != nil {
			indent = "  "
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\t%s\n", indent, e.Code, e.CFR, e.EffectiveStatus(), citable, deadline, e.Title)
	}
	return tw.Flush()
}

func printEntry(w io.Writer, e *exceptions.Entry) {
	fmt.Fprintf(w, "%s: %s\n", e.Code, e.Title)
	fmt.Fprintf(w, "  cfr:          %s\n", e.CFR)
	fmt.Fprintf(w, "  kind:         %s\n", e.Kind)
	fmt.Fprintf(w, "  status:       %s\n", e.EffectiveStatus())
	if e.Verification != "" {
		fmt.Fprintf(w, "  verification: %s\n", e.Verification)
	}
	if len(e.Aliases) > 0 {
		fmt.Fprintf(w, "  aliases:      %s\n", strings.Join(e.Aliases, ", "))
	}
	for _, s := range []struct{ k, v string }{{"structure", e.Structure}, {"note", e.Note}, {"guidance", e.Guidance}} {
		if s.v != "" {
			fmt.Fprintf(w, "  %-13s %s\n", s.k+":", s.v)
		}
	}
	if len(e.Conditions) > 0 {
		fmt.Fprintln(w, "  conditions:")
		for _, c := range e.Conditions {
			fmt.Fprintf(w, "    - %s %s\n", c.CFR, c.Text)
		}
	}
	if !e.Citable() {
		if e.Redirect != "" {
			fmt.Fprintf(w, "  not citable: cite the %s exception instead\n", e.Redirect)
		} else {
			fmt.Fprintln(w, "  not citable: cite one of its sub-conditions:")
			for _, s := range e.Subcodes {
				fmt.Fprintf(w, "    - %s (%s)\n", s.Code, s.CFR)
			}
		}
		return
	}
	fmt.Fprintln(w, "  a policy citing it documents (documentation.conditions):")
	for _, f := range e.Fields() {
		kind := f.Type
		if f.Type == exceptions.FieldEnum {
			kind = "one of " + strings.Join(f.Values, ", ")
		}
		opt := ""
		if f.Optional {
			opt = ", optional"
		}
		fmt.Fprintf(w, "    %s (%s%s): %s\n", f.Name, kind, opt, f.Text)
	}
	if e.LicensedProfessional {
		fmt.Fprintln(w, "    and documentation.decided_by.credentials: the decider is a licensed health care professional")
	}
	if d := e.Duty(); d != nil {
		fmt.Fprintf(w, "  notice duty: %s", d.Duty)
		if d.Deadline != nil {
			fmt.Fprintf(w, " (opens a notice item due %s from receipt)", d.Deadline)
		}
		fmt.Fprintln(w)
	}
}
