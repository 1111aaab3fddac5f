// Package render writes the written policy an auditor asks for: for each
// documented restriction, the exception it relies on (name and CFR cite
// from the catalog) and the conditions it documents, its rationale, scope,
// minimum-necessary justification, who decided it and when, its evidence,
// what the requester is told, its review history and next review (overdue
// reviews marked), and its version history: every version ever in force,
// with the dates it took effect, read from the policy-set entries of the
// journal.
//
// HTML uses html/template with its style sheet embedded (no external
// resources); Markdown is plain. Both render the same document.
package render
