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

// withoutIndexes is AuditDDL less the indexes whose names end in one of
// suffixes, and with or without AUTOINCREMENT.
func withoutIndexes(autoinc bool, suffixes ...string) func(string) []string {
	return func(table string) []string {
		var out []string
		for _, st := range sqlstore.AuditDDL(sqlstore.SQLite, table) {
			if slices.ContainsFunc(suffixes, func(s string) bool { return strings.Contains(st, `"`+table+`_`+s+`"`) }) {
				continue
			}
			if !autoinc {
				st = strings.Replace(st, " AUTOINCREMENT", "", 1)
			}
			out = append(out, st)
		}
		return out
	}
}

// outboxVariants: "outbox" is the audit table as AuditDDL makes it today;
// "audit-before-outbox" has the indexes the audit trail had before the
// outbox (customer_id and at, no unique event_id nor unpublished index);
// the others take one thing away from the outbox each, to show what it
// costs.
var outboxVariants = []outboxVariant{
	{name: "plain"},
	{name: "audit-before-outbox", ddl: withoutIndexes(true, "event_id", "unpublished")},
	{name: "outbox", ddl: withoutIndexes(true)},
	{name: "outbox-no-autoincrement", ddl: withoutIndexes(false)},
	{name: "outbox-no-event-id-index", ddl: withoutIndexes(true, "event_id")},
	{name: "audit-no-index", ddl: withoutIndexes(false, "event_id", "unpublished", "customer_id", "at")},
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
	db    *sql.DB
	order []int // customer ids not yet forgotten, in the order to forget them
}

var scaleDBs = map[int]*scaleDB{}

// scaleWarmUp is how many random forgets run, untimed, on a fresh copy of
// the n-customer database before any is timed: enough for SQLite's page
// cache (or the map) to hold what it will hold at steady state. Set
// FORGET_BENCH_WARMUP to change it.
func scaleWarmUp(b *testing.B, n int) int {
	if s := os.Getenv("FORGET_BENCH_WARMUP"); s != "" {
		w, err := strconv.Atoi(s)
		if err != nil || w < 0 {
			b.Fatalf("FORGET_BENCH_WARMUP=%q: want a count", s)
		}
		return min(w, n/2)
	}
	return min(20000, n/10)
}

// scaleBench returns the warm n-customer database with at least want
// customers left, copying and warming the template again when it runs
// out. FORGET_BENCH_SQLITE_DSN adds settings to the DSN.
func scaleBench(b *testing.B, n, want int) *scaleDB {
	benchMu.Lock()
	defer benchMu.Unlock()
	if sd, ok := scaleDBs[n]; ok && len(sd.order) >= want {
		return sd
	} else if ok {
		sd.db.Close()
	}
	warm := scaleWarmUp(b, n)
	if want+warm > n {
		b.Fatalf("%d forgets after %d to warm up, but the database has %d customers: use -benchtime=%dx or less", want, warm, n, n-warm)
	}
	dst := filepath.Join(os.TempDir(), fmt.Sprintf("forget-scale-bench-%d.db", n))
	if err := copyFile(sqliteTemplate(b, n), dst); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+dst+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"+os.Getenv("FORGET_BENCH_SQLITE_DSN"))
	if err != nil {
		b.Fatal(err)
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i + 1
	}
	rand.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	sd := &scaleDB{db: db, order: order}
	// Warm up with real forgets of random customers: they read and write
	// the pages the timed ones will, and checkpoint the WAL as often.
	f := benchForgetter(b, db, sqlstore.SQLite)
	ctx := context.Background()
	for _, id := range sd.take(warm) {
		if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: strconv.Itoa(id)}}); err != nil {
			b.Fatal(err)
		}
	}
	scaleDBs[n] = sd
	return sd
}

// take reserves the next k customers of the random order.
func (sd *scaleDB) take(k int) []int {
	ids := sd.order[:k]
	sd.order = sd.order[k:]
	return ids
}

// BenchmarkForgetScaleSQLite: one forget by customer_id, package vs
// baseline, at 1,000 and (with FORGET_BENCH_LARGE) 1,000,000 customers,
// at steady state: customers drawn at random from the whole range, after
// scaleWarmUp untimed random forgets on the copy. Run with
// -benchtime=900x or less.
func BenchmarkForgetScaleSQLite(b *testing.B) {
	for _, n := range []int{1000, 1000000} {
		if n > 1000 && os.Getenv("FORGET_BENCH_LARGE") == "" {
			continue
		}
		b.Run(fmt.Sprintf("customers=%d", n), func(b *testing.B) {
			b.Run("impl=forgetter", func(b *testing.B) {
				sd := scaleBench(b, n, b.N)
				f := benchForgetter(b, sd.db, sqlstore.SQLite)
				ids := sd.take(b.N)
				ctx := context.Background()
				b.ResetTimer()
				for _, id := range ids {
					if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: strconv.Itoa(id)}}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("impl=baseline", func(b *testing.B) {
				sd := scaleBench(b, n, b.N)
				bl := newBaseline(sqlstore.SQLite)
				ids := sd.take(b.N)
				ctx := context.Background()
				b.ResetTimer()
				for _, id := range ids {
					if err := bl.forget(ctx, sd.db, int64(id)); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
