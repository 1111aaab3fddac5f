//go:build !unix

package spool

import (
	"fmt"
	"os"
)

// lockDir creates the lock file; without flock the exclusion relies on
// one process per spool folder.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return f, nil
}
