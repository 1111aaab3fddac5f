package export

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/journal/verify"
)

// verification is verification.json: what the export found in the store.
type verification struct {
	// OK is set when the chains verified and every exported record
	// matched its entries.
	OK bool      `json:"ok"`
	At time.Time `json:"at"`
	// Chains is the store's hash chains and checkpoints verified for the
	// window (decision/journal/verify).
	Chains *verify.Report `json:"chains"`
	// Records compares each exported record's projection with the record
	// its entries make.
	Records recordCheck `json:"records"`
}

// writeVerification verifies the store's chains over the window and
// writes the result with the export's own record check.
func (x *exporter) writeVerification() error {
	keys := journal.NewKeyring(append([]ed25519.PublicKey{x.opts.Key.Public().(ed25519.PublicKey)}, x.opts.PublicKeys...)...)
	rep, err := verify.Run(x.ctx, x.st, verify.Options{Keys: keys, From: x.man.Window.From, To: x.man.Window.To,
		SkipRecords: true, Transition: x.opts.Transition})
	if err != nil {
		return fmt.Errorf("export: verify: %w", err)
	}
	v := verification{OK: rep.OK() && x.check.ProblemCount == 0, At: x.opts.Now().UTC(), Chains: rep, Records: x.check}
	return x.writeJSON(FileVerification, v)
}
