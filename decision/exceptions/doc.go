// Package exceptions is the catalog of the 45 CFR Part 171
// information-blocking exceptions, kept as versioned project data
// (catalog.yaml, embedded): every exception in force, each sub-condition a
// policy may cite, its CFR paragraph, its status (in force, or proposed for
// removal or revision), the documentation a claim of it requires and its
// notice duty, plus the codes for restrictions that are not exceptions
// (required by law, delays that are not interference).
//
// Policies (decision/policy) are validated against the catalog, and every
// restriction record names the catalog version it was decided under.
package exceptions
