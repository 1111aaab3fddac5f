package verify

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/store"
)

// ParseLog reads the checkpoints from a JSON log (one object per line, as
// written by the gateway's JSON log handler); other lines are skipped.
// Those checkpoints are a copy kept outside the store: pass them as
// Options.External.
func ParseLog(r io.Reader) ([]store.Checkpoint, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var out []store.Checkpoint
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(b) == 0 || b[0] != '{' {
			continue
		}
		var l struct {
			Msg        string            `json:"msg"`
			Checkpoint *store.Checkpoint `json:"checkpoint"`
		}
		if err := json.Unmarshal(b, &l); err != nil || l.Msg != journal.CheckpointLogMessage || l.Checkpoint == nil {
			continue
		}
		if l.Checkpoint.Chain == "" || l.Checkpoint.Seq == 0 {
			return nil, fmt.Errorf("verify: log line %d: incomplete checkpoint", line)
		}
		out = append(out, *l.Checkpoint)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("verify: read log: %w", err)
	}
	return out, nil
}
