package postgres

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// partitioned are the tables partitioned by month.
var partitioned = [...]string{"entries", "records", "record_patients"}

// partitionName matches the partitions this package creates.
var partitionName = regexp.MustCompile(`^(entries|records|record_patients)_p(\d{4})(\d{2})$`)

// month is the first instant of a UTC month.
type month time.Time

func monthOf(t time.Time) month {
	t = t.UTC()
	return month(time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC))
}

func (m month) next() month { return month(time.Time(m).AddDate(0, 1, 0)) }

func (m month) suffix() string { return time.Time(m).Format("_p200601") }

// partitions creates monthly partitions before rows need them.
type partitions struct {
	pool  *pgxpool.Pool
	mu    sync.Mutex
	known map[month]bool
}

// ensure creates the partitions of every month in ms that this process
// has not seen created.
func (p *partitions) ensure(ctx context.Context, ms ...month) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var missing []month
	for _, m := range ms {
		if !p.known[m] {
			missing = append(missing, m)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(`+lockKey+`)`); err != nil {
			return err
		}
		for _, m := range missing {
			from, to := time.Time(m).Format(time.RFC3339), time.Time(m.next()).Format(time.RFC3339)
			for _, t := range partitioned {
				// Record rows are updated once, at completion, mostly in
				// columns no index covers: leave room for HOT updates.
				with := ""
				if t == "records" {
					with = " WITH (fillfactor = 70)"
				}
				q := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES FROM ('%s') TO ('%s')%s`,
					pgx.Identifier{t + m.suffix()}.Sanitize(), pgx.Identifier{t}.Sanitize(), from, to, with)
				if _, err := tx.Exec(ctx, q); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: create partitions: %w", err)
	}
	for _, m := range missing {
		p.known[m] = true
	}
	return nil
}

// forget drops the cache, after an error that may mean a partition went
// away (dropped by another replica's retention).
func (p *partitions) forget() {
	p.mu.Lock()
	p.known = map[month]bool{}
	p.mu.Unlock()
}

// ahead creates this month's partitions and the next two months'.
func (p *partitions) ahead(ctx context.Context, now time.Time) error {
	m := monthOf(now)
	return p.ensure(ctx, m, m.next(), m.next().next())
}

// maintain creates partitions ahead every few hours until ctx ends.
func (p *partitions) maintain(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p.ahead(ctx, now)
		}
	}
}

// dropEmpty drops the partitions of months that end at or before before
// and whose three tables are all empty.
func (p *partitions) dropEmpty(ctx context.Context, before time.Time) error {
	rows, err := p.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class pc ON pc.oid = i.inhparent
		JOIN pg_namespace n ON n.oid = pc.relnamespace
		WHERE pc.relname = 'entries' AND n.nspname = current_schema()`)
	if err != nil {
		return fmt.Errorf("postgres: partitions: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("postgres: partitions: %w", err)
	}
	for _, name := range names {
		sm := partitionName.FindStringSubmatch(name)
		if sm == nil {
			continue
		}
		m, err := time.Parse("200601", sm[2]+sm[3])
		if err != nil || time.Time(month(m).next()).After(before) {
			continue
		}
		suffix := month(m).suffix()
		err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(`+lockKey+`)`); err != nil {
				return err
			}
			for _, t := range partitioned {
				var any bool
				q := fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %s)`, pgx.Identifier{t + suffix}.Sanitize())
				if err := tx.QueryRow(ctx, q).Scan(&any); err != nil || any {
					return err
				}
			}
			for _, t := range partitioned {
				if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+pgx.Identifier{t + suffix}.Sanitize()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("postgres: drop partition %s: %w", suffix, err)
		}
	}
	p.forget()
	return nil
}

func (m month) toTime() time.Time { return time.Time(m) }
