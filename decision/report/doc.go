// Package report computes the reports compliance staff and investigators
// ask for over the decision records, each a typed result rendered as JSON,
// as a text table or as HTML (html/template, style sheet embedded, no
// external resources):
//
//   - restrictions: restrictions by action, exception and policy, over time;
//   - fulfilment: time from request to fulfilment per requester class
//     (p50, p95, max), held requests counted until their answer was
//     collected;
//   - in-use: how long each restriction has been in force and applied;
//   - repeated: the same restriction applied again and again to one
//     patient or one requester;
//   - consistency: restriction rates per requester class for the same
//     resource type and data class, to show non-discrimination;
//   - undocumented: restrictions the upstream made that nothing documents;
//   - reviews: policies whose review is overdue or due, and the records
//     they flagged;
//   - notices: written responses due and overdue.
//
// Counting is done by the store (store.Reporter): SQL aggregates over the
// indexed projection, so that a report over millions of records reads a
// few hundred rows.
package report
