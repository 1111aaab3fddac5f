package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// Store is the SQLite record store. It is safe for concurrent use; writes
// are serialised on one connection, reads use a small pool.
type Store struct {
	w, r *sql.DB
	path string
	// The statements of Append, prepared once on the write connection:
	// parsing them per transaction cost more than executing them.
	insEntry, upRecord, updRecord, insPatient *sql.Stmt
}

// The statements of Append.
const (
	insEntrySQL = `INSERT INTO entries (chain, seq, kind, record_id, at, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	upRecordSQL = `INSERT INTO records (id, received_at, action, interaction, resource_type, subject, client_id, issuer, class, status, exception, flags, policies, doc, spooled)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET action = excluded.action, status = excluded.status, exception = excluded.exception,
			flags = excluded.flags, policies = excluded.policies, doc = excluded.doc, spooled = max(spooled, excluded.spooled)`
	updRecordSQL  = `UPDATE records SET status = ?, flags = ?, policies = ?, doc = ?, spooled = max(spooled, ?) WHERE id = ?`
	insPatientSQL = `INSERT OR IGNORE INTO record_patients (patient, received_at, record_id) VALUES (?, ?, ?)`
)

var _ store.Store = (*Store)(nil)

// Open opens (creating with mode 0600 if needed) the database at path and
// brings its schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	dsn := func(extra string) string {
		v := url.Values{}
		for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)"} {
			v.Add("_pragma", p)
		}
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + v.Encode() + extra
	}
	w, err := sql.Open("sqlite", dsn("&_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	// Readers map the file (no read syscall per page) and keep a larger
	// page cache: verification and reports scan whole tables.
	r, err := sql.Open("sqlite", dsn("&_pragma=mmap_size(1073741824)&_pragma=cache_size(-32768)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	r.SetMaxOpenConns(4)
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err == nil {
			os.Chmod(path+suffix, 0o600)
		}
	}
	st := &Store{w: w, r: r, path: path}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{{&st.insEntry, insEntrySQL}, {&st.upRecord, upRecordSQL}, {&st.updRecord, updRecordSQL}, {&st.insPatient, insPatientSQL}} {
		if *p.stmt, err = w.PrepareContext(ctx, p.sql); err != nil {
			st.Close()
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	return st, nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.insEntry, s.upRecord, s.updRecord, s.insPatient} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(append(errs, s.r.Close(), s.w.Close())...)
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return nil
}

// Append implements store.Store.
func (s *Store) Append(ctx context.Context, items []store.Item) (err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: append: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	// The statements prepared at Open, bound to this transaction (on the
	// one write connection they are reused, not prepared again).
	insEntry, upRecord := tx.StmtContext(ctx, s.insEntry), tx.StmtContext(ctx, s.upRecord)
	updRecord, insPatient := tx.StmtContext(ctx, s.updRecord), tx.StmtContext(ctx, s.insPatient)
	for i := range items {
		e := &items[i].Entry
		if _, err := insEntry.ExecContext(ctx, e.Chain, int64(e.Seq), string(e.Kind), e.RecordID, e.At.UnixMicro(), e.Payload, e.PrevHash, e.Hash); err != nil {
			var se *sqlite.Error
			if errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE) {
				return fmt.Errorf("sqlite: append %s/%d: %w", e.Chain, e.Seq, store.ErrChainConflict)
			}
			return fmt.Errorf("sqlite: append: %w", err)
		}
		rec := items[i].Record
		if rec == nil {
			continue
		}
		doc, err := items[i].DocJSON()
		if err != nil {
			return fmt.Errorf("sqlite: append: %w", err)
		}
		row := store.RowOf(rec)
		if e.Kind == decision.KindCompletion && rec.Action != decision.Error {
			// A completion changes neither the action (unless the request
			// failed) nor the exception: touch no indexed column, so that
			// no index is rewritten.
			res, err := updRecord.ExecContext(ctx, row.Status, row.Flags, row.Policies, doc, items[i].Spooled, row.ID)
			if err != nil {
				return fmt.Errorf("sqlite: append: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				if err := insertPatients(ctx, insPatient, &row); err != nil {
					return err
				}
				continue
			}
		}
		if _, err := upRecord.ExecContext(ctx, row.ID, row.ReceivedAt, row.Action, row.Interaction, row.ResourceType,
			row.Subject, row.ClientID, row.Issuer, row.Class, row.Status, row.Exception, row.Flags, row.Policies, doc, items[i].Spooled); err != nil {
			return fmt.Errorf("sqlite: append: %w", err)
		}
		if err := insertPatients(ctx, insPatient, &row); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: append: %w", err)
	}
	return nil
}

func insertPatients(ctx context.Context, ins *sql.Stmt, row *store.Row) error {
	for _, p := range row.Patients {
		if _, err := ins.ExecContext(ctx, p, row.ReceivedAt, row.ID); err != nil {
			return fmt.Errorf("sqlite: append: %w", err)
		}
	}
	return nil
}

// Head implements store.Store.
func (s *Store) Head(ctx context.Context, chain string) (uint64, string, error) {
	var seq int64
	var hash string
	err := s.w.QueryRowContext(ctx, `SELECT seq, hash FROM entries WHERE chain = ? ORDER BY seq DESC LIMIT 1`, chain).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("sqlite: head: %w", err)
	}
	return uint64(seq), hash, nil
}

// Entries implements store.Store. It reads a page at a time and calls
// fn with no connection held, so fn may use the store.
func (s *Store) Entries(ctx context.Context, chain string, from, to uint64, fn func(decision.Entry) error) error {
	if to == 0 || to > 1<<63-1 {
		to = 1<<63 - 1
	}
	const page = 2000
	buf := make([]decision.Entry, 0, page)
	for {
		var err error
		buf, err = s.entryPage(ctx, chain, from, to, page, buf[:0])
		if err != nil {
			return err
		}
		for _, e := range buf {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(buf) < page {
			return nil
		}
		from = buf[len(buf)-1].Seq + 1
	}
}

func (s *Store) entryPage(ctx context.Context, chain string, from, to uint64, limit int, buf []decision.Entry) ([]decision.Entry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT chain, seq, kind, record_id, at, payload, prev_hash, hash FROM entries
		WHERE chain = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`, chain, int64(min(from, 1<<63-1)), int64(to), limit)
	if err != nil {
		return buf, fmt.Errorf("sqlite: entries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return buf, err
		}
		buf = append(buf, e)
	}
	if err := rows.Err(); err != nil {
		return buf, fmt.Errorf("sqlite: entries: %w", err)
	}
	return buf, nil
}

// recordEntriesSQL reads one record's entries. The redundant condition
// that record_id is not empty lets SQLite use the partial index
// entries_record, which it cannot prove applies to a bound parameter;
// without it every trace scans the journal.
const recordEntriesSQL = `SELECT chain, seq, kind, record_id, at, payload, prev_hash, hash FROM entries
		WHERE record_id = ? AND record_id <> '' ORDER BY at, chain, seq`

// RecordEntries implements store.Store.
func (s *Store) RecordEntries(ctx context.Context, id string) ([]decision.Entry, error) {
	rows, err := s.r.QueryContext(ctx, recordEntriesSQL, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: record entries: %w", err)
	}
	defer rows.Close()
	var out []decision.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: record entries: %w", err)
	}
	return out, nil
}

func scanEntry(rows *sql.Rows) (decision.Entry, error) {
	var e decision.Entry
	var seq, at int64
	var kind string
	if err := rows.Scan(&e.Chain, &seq, &kind, &e.RecordID, &at, &e.Payload, &e.PrevHash, &e.Hash); err != nil {
		return e, fmt.Errorf("sqlite: scan entry: %w", err)
	}
	e.Seq, e.Kind, e.At = uint64(seq), decision.EntryKind(kind), time.UnixMicro(at).UTC()
	return e, nil
}

// Chains implements store.Store. A chain whose entries were all pruned
// is listed with the checkpoint it was pruned to.
func (s *Store) Chains(ctx context.Context) ([]store.Chain, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT e.chain, e.seq, e.hash, e.at, (SELECT at FROM entries f WHERE f.chain = e.chain ORDER BY seq LIMIT 1)
		FROM entries e WHERE e.seq = (SELECT MAX(seq) FROM entries g WHERE g.chain = e.chain)
		UNION ALL
		SELECT c.chain, c.seq, c.hash, c.at, c.at FROM checkpoints c
		WHERE c.seq = (SELECT MAX(seq) FROM checkpoints d WHERE d.chain = c.chain)
			AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.chain = c.chain)
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: chains: %w", err)
	}
	defer rows.Close()
	var out []store.Chain
	for rows.Next() {
		var c store.Chain
		var seq, last, first int64
		if err := rows.Scan(&c.Name, &seq, &c.Hash, &last, &first); err != nil {
			return nil, fmt.Errorf("sqlite: chains: %w", err)
		}
		c.Seq, c.First, c.Last = uint64(seq), time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// PutLink implements store.Store.
func (s *Store) PutLink(ctx context.Context, l store.Link) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO links (path, kind, record_id, owner, expires) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (path) DO UPDATE SET kind = excluded.kind, record_id = excluded.record_id, owner = excluded.owner, expires = excluded.expires`,
		l.Path, l.Kind, l.RecordID, l.Owner, l.Expires.UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlite: put link: %w", err)
	}
	return nil
}

// Link implements store.Store.
func (s *Store) Link(ctx context.Context, path string) (store.Link, error) {
	l := store.Link{Path: path}
	var exp int64
	err := s.r.QueryRowContext(ctx, `SELECT kind, record_id, owner, expires FROM links WHERE path = ?`, path).Scan(&l.Kind, &l.RecordID, &l.Owner, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return l, store.ErrNotFound
	}
	if err != nil {
		return l, fmt.Errorf("sqlite: link: %w", err)
	}
	l.Expires = time.UnixMicro(exp).UTC()
	if time.Now().After(l.Expires) {
		return l, store.ErrNotFound
	}
	return l, nil
}
