package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// Audit implements store.Store: three ordered cursors stepped together
// in one read transaction (a WAL snapshot).
func (s *Store) Audit(ctx context.Context, fn func(*store.AuditRecord) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	defer tx.Rollback()
	open := func(q string) (*sql.Rows, error) {
		rows, err := tx.QueryContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("sqlite: audit: %w", err)
		}
		return rows, nil
	}
	er, err := open(`SELECT chain, seq, kind, record_id, at, payload, prev_hash, hash FROM entries
		WHERE record_id <> '' AND kind IN ('decision', 'completion', 'transition') ORDER BY record_id, chain, seq`)
	if err != nil {
		return err
	}
	defer er.Close()
	pr, err := open(`SELECT id, received_at, action, interaction, resource_type, subject, client_id, issuer, class,
		status, exception, flags, policies, doc, spooled FROM records ORDER BY id`)
	if err != nil {
		return err
	}
	defer pr.Close()
	ptr, err := open(`SELECT record_id, patient, received_at FROM record_patients ORDER BY record_id, patient`)
	if err != nil {
		return err
	}
	defer ptr.Close()
	src := store.AuditSource{
		Entries: func() (decision.Entry, bool, error) {
			if !er.Next() {
				return decision.Entry{}, false, er.Err()
			}
			e, err := scanEntry(er)
			return e, err == nil, err
		},
		Projections: func() (store.Projection, bool, error) {
			var p store.Projection
			if !pr.Next() {
				return p, false, pr.Err()
			}
			err := pr.Scan(&p.ID, &p.ReceivedAt, &p.Action, &p.Interaction, &p.ResourceType, &p.Subject, &p.ClientID,
				&p.Issuer, &p.Class, &p.Status, &p.Exception, &p.Flags, &p.Policies, &p.Doc, &p.Spooled)
			return p, err == nil, err
		},
		Patients: func() (string, store.PatientRow, bool, error) {
			var id string
			var p store.PatientRow
			if !ptr.Next() {
				return id, p, false, ptr.Err()
			}
			err := ptr.Scan(&id, &p.Patient, &p.ReceivedAt)
			return id, p, err == nil, err
		},
	}
	return store.MergeAudit(src, fn)
}
