package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
)

// Row is the indexed projection of one record, as every store keeps it.
type Row struct {
	ID           string
	ReceivedAt   int64 // Unix microseconds
	Action       string
	Interaction  string
	ResourceType string
	Subject      string
	ClientID     string
	Issuer       string
	Class        string
	Status       int
	Exception    string
	// Flags and Policies are delimited lists (",a,b,") so that a LIKE
	// '%,a,%' matches one member exactly.
	Flags    string
	Policies string
	Patients []string
}

// RowOf computes the projection of a record.
func RowOf(r *decision.Record) Row {
	row := Row{
		ID:           r.ID,
		ReceivedAt:   r.ReceivedAt.UnixMicro(),
		Action:       r.Action.String(),
		Interaction:  r.Interaction,
		ResourceType: r.ResourceType,
		Subject:      r.Requester.Subject,
		ClientID:     r.Requester.ClientID,
		Issuer:       r.Requester.Issuer,
		Class:        string(r.Requester.Class),
		Status:       r.Status,
		Patients:     r.Patients,
	}
	if r.Exception != nil {
		row.Exception = r.Exception.Code
	}
	flags := make([]string, len(r.Flags))
	for i, f := range r.Flags {
		flags[i] = string(f)
	}
	row.Flags = List(flags)
	ps := make([]string, len(r.Policies))
	for i, p := range r.Policies {
		ps[i] = p.ID
	}
	row.Policies = List(ps)
	return row
}

// List renders a delimited list for Row.Flags and Row.Policies.
func List(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return "," + strings.Join(items, ",") + ","
}

// Member returns the LIKE pattern that matches item in a List.
func Member(item string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%," + r.Replace(item) + ",%"
}

// EncodeCursor makes an opaque cursor for keyset pagination.
func EncodeCursor(receivedAt int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(receivedAt, 10) + ":" + id))
}

// DecodeCursor reads a cursor made by EncodeCursor.
func DecodeCursor(s string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, "", fmt.Errorf("%w: %v", ErrBadCursor, err)
	}
	ts, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || id == "" {
		return 0, "", ErrBadCursor
	}
	return n, id, nil
}

// Micro converts a time to the stores' Unix-microsecond integers.
func Micro(t time.Time) int64 { return t.UnixMicro() }

// DecodeRecord decodes a stored record document; spooled adds
// decision.FlagSpooled, which stores keep beside the document.
func DecodeRecord(doc []byte, spooled bool) (decision.Record, error) {
	var r decision.Record
	if err := json.Unmarshal(doc, &r); err != nil {
		return r, fmt.Errorf("store: decode record: %w", err)
	}
	if spooled {
		r.AddFlag(decision.FlagSpooled)
	}
	return r, nil
}
