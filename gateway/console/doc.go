// Package console is the compliance console: a server-rendered web
// interface on the admin listener for compliance officers and auditors.
//
// It serves everything under /console/: sign-in with an admin credential
// (a token or a JWT), decision search and traces, policies with their
// review dates and version diffs, report charts, the work queues (holds
// awaiting release, written responses due) and audit package exports.
//
// The console holds no data of its own. Every page is built from the
// admin API (package gateway/admin), called in-process with the signed-in
// user's credential: roles, refusals and the journaling of every look are
// exactly the API's. The credential is kept in a server-side session and
// never leaves the server; POST forms carry a per-session CSRF token.
// Templates, the style sheet, the small script and the charts (inline SVG
// rendered on the server) are embedded: the console works offline.
package console
