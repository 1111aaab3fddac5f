package journal

import (
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
)

// TestHashGolden pins the hashed encoding: if this test fails, existing
// journals would no longer verify. Change the encoding only with a new
// hash domain (a schema change), never silently.
func TestHashGolden(t *testing.T) {
	e := decision.Entry{
		Chain: "pod-a", Seq: 42, Kind: decision.KindDecision, RecordID: "01J00000000000000000000000",
		At:       time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
		Payload:  []byte(`{"id":"01J00000000000000000000000","action":"deny"}`),
		PrevHash: Genesis,
	}
	const want = "de3ae25dd86bfd14e80e745b83d219a0409352635b2374e2d2748eeee8a2abaf"
	if got := Hash(&e); got != want {
		t.Fatalf("Hash = %s, want %s", got, want)
	}
}

func TestHashCoversEveryField(t *testing.T) {
	base := decision.Entry{Chain: "c", Seq: 1, Kind: decision.KindDecision, RecordID: "r", At: time.Unix(1, 0), Payload: []byte("{}"), PrevHash: Genesis}
	h := Hash(&base)
	for name, mut := range map[string]func(e *decision.Entry){
		"chain":   func(e *decision.Entry) { e.Chain = "d" },
		"seq":     func(e *decision.Entry) { e.Seq = 2 },
		"kind":    func(e *decision.Entry) { e.Kind = decision.KindCompletion },
		"record":  func(e *decision.Entry) { e.RecordID = "s" },
		"at":      func(e *decision.Entry) { e.At = e.At.Add(time.Microsecond) },
		"payload": func(e *decision.Entry) { e.Payload = []byte("{ }") },
		"prev":    func(e *decision.Entry) { e.PrevHash = "1" + Genesis[1:] },
		// Length prefixes: moving a byte between fields changes the hash.
		"boundary": func(e *decision.Entry) { e.Chain, e.Kind = "cd", "ecision" },
	} {
		e := base
		mut(&e)
		if Hash(&e) == h {
			t.Errorf("changing %s does not change the hash", name)
		}
	}
}
