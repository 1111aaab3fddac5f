package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// Store is the PostgreSQL record store. It is safe for concurrent use.
type Store struct {
	pool  *pgxpool.Pool
	parts *partitions
	stop  context.CancelFunc
	done  chan struct{}
}

var _ store.Store = (*Store)(nil)

// Options tune the store.
type Options struct {
	// MaxConns bounds the connection pool (default: pgx's, at least 4).
	MaxConns int32
}

// Open connects with dsn (a PostgreSQL URL or keyword/value string; extra
// URL parameters such as search_path become session settings), brings the
// schema up to date and creates the partitions of this month and the
// next two.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.MaxConns = max(cfg.MaxConns, 4)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w: %w", store.ErrUnavailable, err)
	}
	err = migrate(ctx, conn.Conn())
	conn.Release()
	if err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{pool: pool, parts: &partitions{pool: pool, known: map[month]bool{}}, done: make(chan struct{})}
	if err := s.parts.ahead(ctx, time.Now()); err != nil {
		pool.Close()
		return nil, err
	}
	mctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go func() {
		defer close(s.done)
		s.parts.maintain(mctx, 6*time.Hour)
	}()
	return s, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.stop()
	<-s.done
	s.pool.Close()
	return nil
}

// Ping checks the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return nil
}

// Append implements store.Store: one transaction advancing each chain's
// head (optimistically), copying the entries and upserting projections.
func (s *Store) Append(ctx context.Context, items []store.Item) error {
	if len(items) == 0 {
		return nil
	}
	if err := s.parts.ensure(ctx, monthsOf(items)...); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return appendTx(ctx, tx, items) })
	if err != nil {
		s.parts.forget()
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return fmt.Errorf("postgres: append: %w", store.ErrChainConflict)
		}
		return fmt.Errorf("postgres: append: %w", err)
	}
	return nil
}

func monthsOf(items []store.Item) []month {
	var ms []month
	add := func(t time.Time) {
		m := monthOf(t)
		for _, k := range ms {
			if k == m {
				return
			}
		}
		ms = append(ms, m)
	}
	for i := range items {
		add(items[i].Entry.At)
		if r := items[i].Record; r != nil {
			add(r.ReceivedAt)
		}
	}
	return ms
}

func appendTx(ctx context.Context, tx pgx.Tx, items []store.Item) error {
	b := &pgx.Batch{}
	var heads []string
	// One head update per run of entries of a chain.
	for i := 0; i < len(items); {
		first := &items[i].Entry
		j := i + 1
		for j < len(items) && items[j].Entry.Chain == first.Chain {
			prev := &items[j-1].Entry
			if e := &items[j].Entry; e.Seq != prev.Seq+1 || e.PrevHash != prev.Hash {
				return fmt.Errorf("%w: %s/%d does not follow %d", store.ErrChainConflict, e.Chain, e.Seq, prev.Seq)
			}
			j++
		}
		last := &items[j-1].Entry
		if first.Seq == 1 {
			b.Queue(`INSERT INTO journal_chains (chain, seq, hash, first_at, last_at) VALUES ($1, $2, $3, $4, $4)
				ON CONFLICT (chain) DO NOTHING`, first.Chain, int64(last.Seq), last.Hash, last.At)
		} else {
			b.Queue(`UPDATE journal_chains SET seq = $2, hash = $3, last_at = $4 WHERE chain = $1 AND seq = $5 AND hash = $6`,
				first.Chain, int64(last.Seq), last.Hash, last.At, int64(first.Seq-1), first.PrevHash)
		}
		heads = append(heads, fmt.Sprintf("%s/%d", first.Chain, first.Seq))
		i = j
	}
	recs, pats := projections(items)
	if len(recs.id) > 0 {
		b.Queue(`INSERT INTO records (id, received_at, action, interaction, resource_type, subject, client_id, issuer, class,
				status, exception, flags, policies, doc, spooled)
			SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
				$8::text[], $9::text[], $10::int[], $11::text[], $12::text[], $13::text[], $14::bytea[], $15::bool[])
			ON CONFLICT (id, received_at) DO UPDATE SET action = excluded.action, status = excluded.status,
				exception = excluded.exception, flags = excluded.flags, policies = excluded.policies, doc = excluded.doc,
				spooled = records.spooled OR excluded.spooled`,
			recs.id, recs.at, recs.action, recs.interaction, recs.rtype, recs.subject, recs.client, recs.issuer, recs.class,
			recs.status, recs.exception, recs.flags, recs.policies, recs.doc, recs.spooled)
	}
	if len(pats.patient) > 0 {
		b.Queue(`INSERT INTO record_patients (patient, received_at, record_id)
			SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[]) ON CONFLICT DO NOTHING`,
			pats.patient, pats.at, pats.id)
	}
	br := tx.SendBatch(ctx, b)
	for _, h := range heads {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return err
		}
		if tag.RowsAffected() != 1 {
			br.Close()
			return fmt.Errorf("%w: %s does not continue the chain's head", store.ErrChainConflict, h)
		}
	}
	if err := br.Close(); err != nil {
		return err
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"entries"},
		[]string{"chain", "seq", "kind", "record_id", "at", "payload", "prev_hash", "hash"},
		pgx.CopyFromSlice(len(items), func(i int) ([]any, error) {
			e := &items[i].Entry
			return []any{e.Chain, int64(e.Seq), string(e.Kind), e.RecordID, e.At, e.Payload, e.PrevHash, e.Hash}, nil
		}))
	return err
}

// Head implements store.Store.
func (s *Store) Head(ctx context.Context, chain string) (uint64, string, error) {
	var seq int64
	var hash string
	err := s.pool.QueryRow(ctx, `SELECT seq, hash FROM journal_chains WHERE chain = $1`, chain).Scan(&seq, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("postgres: head: %w", err)
	}
	return uint64(seq), hash, nil
}

const entryCols = `chain, seq, kind, record_id, at, payload, prev_hash, hash`

func scanEntry(row pgx.Row) (decision.Entry, error) {
	var e decision.Entry
	var seq int64
	var kind string
	if err := row.Scan(&e.Chain, &seq, &kind, &e.RecordID, &e.At, &e.Payload, &e.PrevHash, &e.Hash); err != nil {
		return e, fmt.Errorf("postgres: scan entry: %w", err)
	}
	e.Seq, e.Kind, e.At = uint64(seq), decision.EntryKind(kind), e.At.UTC()
	return e, nil
}

// Entries implements store.Store. It reads a page at a time and calls fn
// with no connection held, so fn may use the store.
func (s *Store) Entries(ctx context.Context, chain string, from, to uint64, fn func(decision.Entry) error) error {
	if to == 0 || to > 1<<63-1 {
		to = 1<<63 - 1
	}
	from = min(from, 1<<63-1)
	const page = 5000
	buf := make([]decision.Entry, 0, page)
	for {
		rows, err := s.pool.Query(ctx, `SELECT `+entryCols+` FROM entries WHERE chain = $1 AND seq >= $2 AND seq <= $3
			ORDER BY seq LIMIT `+fmt.Sprint(page), chain, int64(from), int64(to))
		if err != nil {
			return fmt.Errorf("postgres: entries: %w", err)
		}
		buf = buf[:0]
		for rows.Next() {
			e, err := scanEntry(rows)
			if err != nil {
				rows.Close()
				return err
			}
			buf = append(buf, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: entries: %w", err)
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

// RecordEntries implements store.Store.
func (s *Store) RecordEntries(ctx context.Context, id string) ([]decision.Entry, error) {
	// "record_id <> ''" matches the partial index entries_record for a
	// generic plan of the prepared statement too.
	rows, err := s.pool.Query(ctx, `SELECT `+entryCols+` FROM entries WHERE record_id = $1 AND record_id <> '' ORDER BY at, chain, seq`, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: record entries: %w", err)
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
		return nil, fmt.Errorf("postgres: record entries: %w", err)
	}
	return out, nil
}

// Chains implements store.Store.
func (s *Store) Chains(ctx context.Context) ([]store.Chain, error) {
	rows, err := s.pool.Query(ctx, `SELECT chain, seq, hash, first_at, last_at FROM journal_chains ORDER BY chain`)
	if err != nil {
		return nil, fmt.Errorf("postgres: chains: %w", err)
	}
	defer rows.Close()
	var out []store.Chain
	for rows.Next() {
		var c store.Chain
		var seq int64
		if err := rows.Scan(&c.Name, &seq, &c.Hash, &c.First, &c.Last); err != nil {
			return nil, fmt.Errorf("postgres: chains: %w", err)
		}
		c.Seq, c.First, c.Last = uint64(seq), c.First.UTC(), c.Last.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: chains: %w", err)
	}
	return out, nil
}

// PutLink implements store.Store.
func (s *Store) PutLink(ctx context.Context, l store.Link) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO links (path, kind, record_id, owner, expires) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (path) DO UPDATE SET kind = excluded.kind, record_id = excluded.record_id, owner = excluded.owner, expires = excluded.expires`,
		l.Path, l.Kind, l.RecordID, l.Owner, l.Expires)
	if err != nil {
		return fmt.Errorf("postgres: put link: %w", err)
	}
	return nil
}

// Link implements store.Store.
func (s *Store) Link(ctx context.Context, path string) (store.Link, error) {
	l := store.Link{Path: path}
	err := s.pool.QueryRow(ctx, `SELECT kind, record_id, owner, expires FROM links WHERE path = $1`, path).Scan(&l.Kind, &l.RecordID, &l.Owner, &l.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, store.ErrNotFound
	}
	if err != nil {
		return l, fmt.Errorf("postgres: link: %w", err)
	}
	l.Expires = l.Expires.UTC()
	if time.Now().After(l.Expires) {
		return l, store.ErrNotFound
	}
	return l, nil
}
