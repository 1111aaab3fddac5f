package main

import (
	"crypto/rand"
	"time"

	"github.com/oklog/ulid/v2"
)

// newID returns a new ULID for entries the command line writes.
func newID() string { return ulid.MustNew(ulid.Timestamp(time.Now()), rand.Reader).String() }
