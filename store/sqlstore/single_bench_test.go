package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// Benchmarks of one forget on SQLite: what the outbox costs, and how one
// forget scales from 1,000 to 1,000,000 customers once the database is
// warm.

// outboxVariant is an audit table shape; ddl nil means no audit at all.
type outboxVariant struct {
	name string
	ddl  func(table string) []string
}

// auditShape is AuditDDL less the indexes whose names end in one of
// drop, with or without AUTOINCREMENT, and with the unique index on
// event_id the outbox had at first when eventIndex is set.
func auditShape(autoinc, eventIndex bool, drop ...string) func(string) []string {
	return func(table string) []string {
		var out []string
		for _, st := range sqlstore.AuditDDL(sqlstore.SQLite, table) {
			if slices.ContainsFunc(drop, func(s string) bool { return strings.Contains(st, `"`+table+`_`+s+`"`) }) {
				continue
			}
			if !autoinc {
				st = strings.Replace(st, " AUTOINCREMENT", "", 1)
			}
			out = append(out, st)
		}
		if eventIndex {
			out = append(out, fmt.Sprintf(`CREATE UNIQUE INDEX "%s_event_id" ON "%s" ("event_id")`, table, table))
		}
		return out
	}
}

// outboxVariants: "outbox" is the audit table as AuditDDL makes it;
// "audit-before-outbox" has the indexes the audit trail had before the
// outbox (customer_id and at, no unpublished index); the others add or
// take away one thing each, to show what it costs.
var outboxVariants = []outboxVariant{
	{name: "plain"},
	{name: "audit-before-outbox", ddl: auditShape(true, false, "unpublished")},
	{name: "outbox", ddl: auditShape(true, false)},
	{name: "outbox-unique-event-id", ddl: auditShape(true, true)},
	{name: "outbox-no-autoincrement", ddl: auditShape(false, false)},
	{name: "audit-no-index", ddl: auditShape(false, false, "unpublished", "customer_id", "at")},
}

// BenchmarkOutboxCostSQLite: one forget by customer_id on 1,000 customers,
// with each audit table shape of outboxVariants and with none, the
// variants taking turns (in rotating order) on one database so that all
// see the same state. Reports each variant's median and its median's
// ratio to "plain" (no audit). Run with -benchtime=160x or less: each
// iteration forgets a fresh customer per variant.
func BenchmarkOutboxCostSQLite(b *testing.B) {
	k := len(outboxVariants)
	bd := sqliteBench(b, 1000, k*b.N, "NORMAL")
	ctx := context.Background()
	fs := make([]*forget.Forgetter, k)
	for i, v := range outboxVariants {
		if v.ddl == nil {
			fs[i] = benchForgetter(b, bd.db, sqlstore.SQLite)
			continue
		}
		table := fmt.Sprintf("bench_audit_%d", i)
		if _, err := bd.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
			b.Fatal(err)
		}
		for _, st := range v.ddl(table) {
			if _, err := bd.db.ExecContext(ctx, st); err != nil {
				b.Fatalf("%s: %v", st, err)
			}
		}
		s, err := sqlstore.New(bd.db, sqlstore.SQLite, sqlstore.WithAudit(table))
		if err != nil {
			b.Fatal(err)
		}
		if fs[i], err = forget.New(s, forget.WithLogger(slog.New(slog.DiscardHandler))); err != nil {
			b.Fatal(err)
		}
	}
	first := bd.take(k * b.N)
	times := make([][]time.Duration, k)
	b.ResetTimer()
	for i := range b.N {
		for j := range k {
			v := (i + j) % k
			id := strconv.Itoa(first + i*k + j)
			start := time.Now()
			if _, err := fs[v].Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: id}}); err != nil {
				b.Fatal(err)
			}
			times[v] = append(times[v], time.Since(start))
		}
	}
	b.StopTimer()
	// Medians: a busy machine's stalls land on any variant and swamp
	// the means.
	p50 := make([]time.Duration, k)
	for v, ts := range times {
		slices.Sort(ts)
		p50[v] = ts[len(ts)/2]
	}
	for v, o := range outboxVariants {
		b.ReportMetric(float64(p50[v].Nanoseconds()), "p50-ns/"+o.name)
		if v > 0 {
			b.ReportMetric(float64(p50[v])/float64(p50[0]), o.name+"/plain")
		}
	}
}

// scaleDB is a working copy of an n-customer template, warmed up, with
// its customers in a random order.
type scaleDB struct {
	n     int
	db    *sql.DB
	f     *forget.Forgetter
	stop  func() // ends the background checkpoints, if any
	order []int  // customer ids not yet forgotten, in the order to forget them
}

var scaleDBs = map[int]*scaleDB{}

// scaleWarmUp is how many random forgets run, untimed, on a fresh copy of
// the n-customer database before any is timed: enough for SQLite's page
// cache (or the map) to hold what it will hold at steady state, and for
// the WAL to have been checkpointed a few times. FORGET_BENCH_WARMUP sets
// it (default 20,000), at most a tenth of the customers.
func scaleWarmUp(b *testing.B, n int) int {
	w := 20000
	if s := os.Getenv("FORGET_BENCH_WARMUP"); s != "" {
		var err error
		if w, err = strconv.Atoi(s); err != nil || w < 0 {
			b.Fatalf("FORGET_BENCH_WARMUP=%q: want a count", s)
		}
	}
	return min(w, n/10)
}

// scaleBench returns the warm n-customer database, shared by the
// benchmarks of one process. FORGET_BENCH_SQLITE_DSN adds settings to its
// DSN.
func scaleBench(b *testing.B, n int) *scaleDB {
	if sd, ok := scaleDBs[n]; ok {
		return sd
	}
	sd := &scaleDB{n: n}
	sd.open(b)
	scaleDBs[n] = sd
	return sd
}

// open makes a fresh copy of the template, shuffles its customers and
// warms it up with real forgets of random customers: they read and write
// the pages the timed ones will, and checkpoint the WAL as often.
func (sd *scaleDB) open(b *testing.B) {
	if sd.db != nil {
		sd.stop()
		sd.db.Close()
	}
	dst := filepath.Join(os.TempDir(), fmt.Sprintf("forget-scale-bench-%d.db", sd.n))
	if err := copyFile(sqliteTemplate(b, sd.n), dst); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+dst+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"+os.Getenv("FORGET_BENCH_SQLITE_DSN"))
	if err != nil {
		b.Fatal(err)
	}
	sd.db = db
	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		b.Fatal(err)
	}
	sd.f = quietForgetter(b, store) // the checkpoints take turns with its forgets
	sd.stop = func() {}
	if every := os.Getenv("FORGET_BENCH_CHECKPOINT_EVERY"); every != "" {
		d, err := time.ParseDuration(every)
		if err != nil {
			b.Fatalf("FORGET_BENCH_CHECKPOINT_EVERY=%q: %v", every, err)
		}
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- store.CheckpointSQLite(ctx, d) }()
		sd.stop = func() {
			stop()
			if err := <-done; err != nil {
				b.Error(err)
			}
		}
	}
	sd.order = make([]int, sd.n)
	for i := range sd.order {
		sd.order[i] = i + 1
	}
	rand.Shuffle(sd.n, func(i, j int) { sd.order[i], sd.order[j] = sd.order[j], sd.order[i] })
	ctx := context.Background()
	for range scaleWarmUp(b, sd.n) {
		if _, err := sd.f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: strconv.Itoa(sd.next(b))}}); err != nil {
			b.Fatal(err)
		}
	}
}

// next is the next customer to forget, from a fresh copy when this one
// has none left.
func (sd *scaleDB) next(b *testing.B) int {
	if len(sd.order) == 0 {
		sd.open(b)
	}
	id := sd.order[0]
	sd.order = sd.order[1:]
	return id
}

// BenchmarkForgetScaleSQLite (FORGET_BENCH_CHECKPOINT_EVERY runs
// Store.CheckpointSQLite at that interval, as forget serve does): the 10^6/10^3 scale ratio of one forget by
// customer_id at steady state, package and baseline. Each iteration
// forgets a random customer of a 1,000-customer database and one of a
// 1,000,000-customer one (needs FORGET_BENCH_LARGE), in alternating
// order, in one process, so that a busy machine's load falls on both;
// each copy was warmed up by scaleWarmUp random forgets, and is copied
// afresh when its customers run out (untimed). Reports the medians, the
// means (which carry the WAL checkpoints, one forget in a hundred or so)
// and both ratios.
func BenchmarkForgetScaleSQLite(b *testing.B) {
	if os.Getenv("FORGET_BENCH_LARGE") == "" {
		b.Skip("needs FORGET_BENCH_LARGE=1 (a 1,000,000-customer database, about 800 MB)")
	}
	sizes := []int{1000, 1000000}
	for _, impl := range []string{"forgetter", "baseline"} {
		b.Run("impl="+impl, func(b *testing.B) {
			ctx := context.Background()
			forgets := make([]func(id int) error, len(sizes))
			dbs := make([]*scaleDB, len(sizes))
			for i, n := range sizes {
				sd := scaleBench(b, n)
				dbs[i] = sd
				bl := newBaseline(sqlstore.SQLite)
				forgets[i] = func(id int) error {
					if impl == "baseline" {
						return bl.forget(ctx, sd.db, int64(id))
					}
					// Per forget: the copy may have been replaced.
					_, err := sd.f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: strconv.Itoa(id)}})
					return err
				}
			}
			times := make([][]time.Duration, len(sizes))
			b.ResetTimer()
			for i := range b.N {
				for j := range sizes {
					k := (i + j) % len(sizes)
					id := dbs[k].next(b)
					start := time.Now()
					if err := forgets[k](id); err != nil {
						b.Fatal(err)
					}
					times[k] = append(times[k], time.Since(start))
				}
			}
			b.StopTimer()
			var p50, mean [2]float64
			for k, ts := range times {
				var sum time.Duration
				for _, t := range ts {
					sum += t
				}
				mean[k] = float64(sum) / float64(len(ts))
				slices.Sort(ts)
				p50[k] = float64(ts[len(ts)/2])
			}
			b.ReportMetric(p50[0], "p50-ns/1e3")
			b.ReportMetric(p50[1], "p50-ns/1e6")
			b.ReportMetric(mean[0], "mean-ns/1e3")
			b.ReportMetric(mean[1], "mean-ns/1e6")
			b.ReportMetric(p50[1]/p50[0], "p50-1e6/1e3")
			b.ReportMetric(mean[1]/mean[0], "mean-1e6/1e3")
		})
	}
}
