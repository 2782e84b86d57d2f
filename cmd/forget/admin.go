package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/forgetkit/forget"
	forgetprom "github.com/forgetkit/forget/observe/prometheus"
)

// healthTimeout bounds a /healthz ping: a probe that waits longer than
// its own timeout learns nothing.
const healthTimeout = 2 * time.Second

// admin is serve -admin-addr: a second listener, apart from the API's,
// for the command's own metrics registry and a health check. A nil
// *admin (no -admin-addr) does nothing.
type admin struct {
	addr string
	reg  *prometheus.Registry
	obs  *forgetprom.Observer
	srv  *http.Server
	ln   net.Listener
	pipe *pipelineMetrics // relay and delivery metrics, once asked for
}

// newAdmin makes the registry, with the forget metrics and the Go
// runtime's and process's, before the Forgetter is built with
// a.options(). It returns nil when addr is empty.
func newAdmin(addr string) (*admin, error) {
	if addr == "" {
		return nil, nil
	}
	reg := prometheus.NewRegistry()
	obs, err := forgetprom.New(reg)
	if err != nil {
		return nil, err
	}
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, err
	}
	return &admin{addr: addr, reg: reg, obs: obs}, nil
}

// options are the Forgetter's options that feed the metrics.
func (a *admin) options() []forget.Option {
	if a == nil {
		return nil
	}
	return []forget.Option{forget.WithObserver(a.obs)}
}

// listen adds db's pool statistics to the metrics and listens; it
// returns the base URL, or "" for a nil admin. /healthz pings db, as
// serve's always has; /readyz pings it and runs the ready checks (the
// broker's).
func (a *admin) listen(db *sql.DB, logger *slog.Logger, ready ...readyCheck) (string, error) {
	return a.start(db, db, logger, ready)
}

// listenLive is listen for relay and deliver, where /healthz is
// liveness alone: a database or broker away is /readyz's answer, and a
// restart would not bring it back. db may be nil (deliver has none).
func (a *admin) listenLive(db *sql.DB, logger *slog.Logger, ready ...readyCheck) (string, error) {
	return a.start(db, nil, logger, ready)
}

func (a *admin) start(db *sql.DB, health pinger, logger *slog.Logger, ready []readyCheck) (string, error) {
	if a == nil {
		return "", nil
	}
	if db != nil {
		if err := a.reg.Register(collectors.NewDBStatsCollector(db, "forget")); err != nil {
			return "", err
		}
		ready = append([]readyCheck{{"database", db.PingContext}}, ready...)
	}
	ln, err := net.Listen("tcp", a.addr)
	if err != nil {
		return "", fmt.Errorf("listen -admin-addr: %w", err)
	}
	a.ln = ln
	a.srv = newHTTPServer(adminMux(a.reg, health, logger, ready...), logger, defaultTimeouts)
	return "http://" + ln.Addr().String(), nil
}

// serve serves until shutdown and then sends Serve's error to served.
func (a *admin) serve(served chan<- error) {
	if a != nil {
		served <- a.srv.Serve(a.ln)
	}
}

// shutdown stops the server as http.Server.Shutdown does.
func (a *admin) shutdown(ctx context.Context) error {
	if a == nil || a.srv == nil {
		return nil
	}
	return a.srv.Shutdown(ctx)
}

// pinger is the part of *sql.DB that /healthz uses.
type pinger interface {
	PingContext(ctx context.Context) error
}

// readyCheck is one part /readyz needs answering: the database, the
// broker.
type readyCheck struct {
	what  string
	check func(ctx context.Context) error
}

// adminMux serves GET /metrics from g, GET /healthz (db's ping; ok
// without a db) and GET /readyz (every ready check). A health answer
// says only ok or unavailable: no DSN, host or error, since a prober (or
// whoever reaches the port) needs nothing more; the cause goes to the
// log.
func adminMux(g prometheus.Gatherer, db pinger, logger *slog.Logger, ready ...readyCheck) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(logger.Handler(), slog.LevelError),
		Timeout:             10 * time.Second,
		MaxRequestsInFlight: 4,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if db != nil {
			if err := db.PingContext(ctx); err != nil {
				logger.LogAttrs(r.Context(), slog.LevelWarn, "healthz: the database did not answer", slog.String("error", clip(err.Error(), maxRowMessage)))
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, "unavailable\n")
				return
			}
		}
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		for _, rc := range ready {
			if err := rc.check(ctx); err != nil {
				logger.LogAttrs(r.Context(), slog.LevelWarn, "readyz: the "+rc.what+" did not answer", slog.String("error", clip(err.Error(), maxRowMessage)))
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, "unavailable\n")
				return
			}
		}
		io.WriteString(w, "ok\n")
	})
	return mux
}
