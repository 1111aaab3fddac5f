package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/ehigate/ehigate/decision"
)

// Errors matched with errors.Is.
var (
	// ErrNotFound: no such record.
	ErrNotFound = errors.New("store: not found")
	// ErrChainConflict: another writer appended to the same chain.
	ErrChainConflict = errors.New("store: chain conflict (is another process writing this chain?)")
	// ErrUnavailable: the store cannot be reached.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrBadCursor: a pagination cursor did not parse.
	ErrBadCursor = errors.New("store: bad cursor")
)

// Item is one journal entry to append, with the record projection it
// leaves behind (nil when the entry changes no record, e.g. an Access).
type Item struct {
	Entry  decision.Entry
	Record *decision.Record
	// Doc, when set, is Record encoded as JSON, computed by the caller so
	// that the store's single writer need not.
	Doc []byte
	// Spooled marks an item replayed from the local spool: the projection
	// row is annotated (records read back carry decision.FlagSpooled), the
	// entry itself is stored exactly as hashed.
	Spooled bool
}

// DocJSON returns the item's record as JSON: Doc when the caller set it.
func (it *Item) DocJSON() ([]byte, error) {
	if it.Doc != nil {
		return it.Doc, nil
	}
	return json.Marshal(it.Record)
}

// Store keeps journal entries and the record projection.
type Store interface {
	// Append writes items durably (fsync or equivalent) in one
	// transaction: all or none. Entries of a chain must continue its head.
	Append(ctx context.Context, items []Item) error
	// Head returns the last sequence number and hash of a chain; zero and
	// "" for a chain with no entries.
	Head(ctx context.Context, chain string) (seq uint64, hash string, err error)
	// Records returns records matching q, newest first (or oldest first
	// with q.Ascending), and a cursor for the next page ("" at the end).
	Records(ctx context.Context, q Query) ([]decision.Record, string, error)
	// Record returns one record with its entry references.
	Record(ctx context.Context, id string) (decision.Record, error)
	// Entries calls fn for each entry of chain with from <= seq <= to
	// (to == 0: to the end), in sequence order, stopping at fn's error.
	Entries(ctx context.Context, chain string, from, to uint64, fn func(decision.Entry) error) error
	// RecordEntries returns every entry of one record, in journal order.
	RecordEntries(ctx context.Context, id string) ([]decision.Entry, error)
	// Chains lists the chains with their heads; a chain whose entries
	// were all pruned is listed with the checkpoint it was pruned to.
	Chains(ctx context.Context) ([]Chain, error)
	// PutLink remembers a URL path outside the FHIR grammar that the
	// gateway learned from a response (a Bulk Data status or file URL).
	PutLink(ctx context.Context, l Link) error
	// Link looks a learned path up; ErrNotFound when unknown or expired.
	Link(ctx context.Context, path string) (Link, error)
	// PutCheckpoint stores a signed checkpoint; storing one again for the
	// same chain and sequence number replaces it (a seal after a periodic
	// checkpoint at the same head).
	PutCheckpoint(ctx context.Context, cp Checkpoint) error
	// Checkpoints calls fn for each checkpoint of chain with seq >= from,
	// in sequence order, stopping at fn's error.
	Checkpoints(ctx context.Context, chain string, from uint64, fn func(Checkpoint) error) error
	// Audit calls fn for every record of the store, in record id order,
	// with its decision, completion and transition entries and its
	// projection, all read from one consistent snapshot.
	Audit(ctx context.Context, fn func(*AuditRecord) error) error
	// Prune deletes the entries of chain with seq <= through, the
	// projection rows and patient index rows of the records decided in
	// them, and the chain's checkpoints below through. The checkpoint at
	// through is kept: verification starts from it.
	Prune(ctx context.Context, chain string, through uint64) error
	// HoldStore keeps parked requests.
	HoldStore
	// Reporter computes report aggregates.
	Reporter
	// Ping checks the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// Chain is one writer's hash chain.
type Chain struct {
	Name string
	Seq  uint64
	Hash string
	// First and Last are the times of its first and last entries.
	First, Last time.Time
}

// Link is a learned URL path.
type Link struct {
	Path string
	// Kind is the interaction it stands for (bulk-status or bulk-file).
	Kind string
	// RecordID is the decision that produced it (the kick-off or status).
	RecordID string
	// Owner identifies the requester that may use it (a hash; "" = any).
	Owner   string
	Expires time.Time
}

// Query filters records. Zero fields do not filter.
type Query struct {
	From, To     time.Time // received_at in [From, To)
	Patient      string
	Subject      string
	ClientID     string
	Issuer       string
	Class        decision.Class
	Action       []decision.Action
	Interaction  string
	ResourceType string
	Exception    string
	Policy       string
	Status       int
	Flag         decision.Flag
	// Limit bounds the page (default 100, at most 10,000).
	Limit     int
	Cursor    string
	Ascending bool
}

// PageLimit returns the effective page size of q.
func (q Query) PageLimit() int {
	switch {
	case q.Limit <= 0:
		return 100
	case q.Limit > 10000:
		return 10000
	}
	return q.Limit
}
