package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// Audit implements store.Store: three server-side cursors in one
// repeatable-read transaction (one snapshot), fetched in pages.
func (s *Store) Audit(ctx context.Context, fn func(*store.AuditRecord) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: audit: %w", err)
	}
	defer tx.Rollback(context.Background())
	for name, q := range map[string]string{
		"audit_e": `SELECT ` + entryCols + ` FROM entries WHERE record_id <> '' AND kind IN ('decision', 'completion', 'transition')
			ORDER BY record_id, chain, seq`,
		"audit_p": `SELECT id, (extract(epoch FROM received_at) * 1000000)::bigint, action, interaction, resource_type, subject,
			client_id, issuer, class, status, exception, flags, policies, doc, spooled FROM records ORDER BY id, received_at`,
		"audit_pt": `SELECT record_id, patient, (extract(epoch FROM received_at) * 1000000)::bigint FROM record_patients
			ORDER BY record_id, patient`,
	} {
		if _, err := tx.Exec(ctx, `DECLARE `+name+` NO SCROLL CURSOR FOR `+q); err != nil {
			return fmt.Errorf("postgres: audit: %w", err)
		}
	}
	src := store.AuditSource{
		Entries: cursor(ctx, tx, "audit_e", func(r pgx.Rows) (decision.Entry, error) { return scanEntry(r) }),
		Projections: cursor(ctx, tx, "audit_p", func(r pgx.Rows) (store.Projection, error) {
			var p store.Projection
			var status int32
			err := r.Scan(&p.ID, &p.ReceivedAt, &p.Action, &p.Interaction, &p.ResourceType, &p.Subject, &p.ClientID,
				&p.Issuer, &p.Class, &status, &p.Exception, &p.Flags, &p.Policies, &p.Doc, &p.Spooled)
			p.Status = int(status)
			return p, err
		}),
	}
	type pat struct {
		id string
		p  store.PatientRow
	}
	pts := cursor(ctx, tx, "audit_pt", func(r pgx.Rows) (pat, error) {
		var x pat
		err := r.Scan(&x.id, &x.p.Patient, &x.p.ReceivedAt)
		return x, err
	})
	src.Patients = func() (string, store.PatientRow, bool, error) {
		x, ok, err := pts()
		return x.id, x.p, ok, err
	}
	return store.MergeAudit(src, fn)
}

// cursor returns a pull function over a declared cursor, fetching 2,000
// rows at a time.
func cursor[T any](ctx context.Context, tx pgx.Tx, name string, scan func(pgx.Rows) (T, error)) func() (T, bool, error) {
	var buf []T
	done := false
	return func() (T, bool, error) {
		var zero T
		if len(buf) == 0 && !done {
			rows, err := tx.Query(ctx, `FETCH 2000 FROM `+name)
			if err != nil {
				return zero, false, err
			}
			for rows.Next() {
				v, err := scan(rows)
				if err != nil {
					rows.Close()
					return zero, false, err
				}
				buf = append(buf, v)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return zero, false, err
			}
			done = len(buf) < 2000
		}
		if len(buf) == 0 {
			return zero, false, nil
		}
		v := buf[0]
		buf = buf[1:]
		return v, true, nil
	}
}
