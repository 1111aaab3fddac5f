// Package notices tracks the written responses a restriction obliges the
// actor to send, such as the reasons a request is infeasible, due within
// 10 business days of its receipt (45 CFR 171.204(b)).
//
// A decision relying on an exception with such a deadline opens a notice
// item: the record carries the notice-required flag and a notice object
// with the due time. Compliance staff list due and overdue items and mark
// each one sent; marking appends a notice-sent transition to the journal.
//
// Business days are counted on a Calendar of US federal holidays
// (5 U.S.C. 6103), with the observed dates of holidays falling on a
// weekend.
package notices
