package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/propagate"
)

// natsFlags name the NATS server, and the namespace of the streams,
// subjects and bucket on it.
type natsFlags struct {
	url       string
	namespace string
	names     propagate.Names
}

// envNATS may hold -nats: a URL with a user's password or a token in argv
// shows in ps.
const envNATS = "FORGET_NATS"

func (n *natsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&n.url, "nats", "", "the NATS server `URL`, JetStream enabled (e.g. -nats nats://127.0.0.1:4222;\nseveral, comma-separated, for a cluster); without it, the URL in $"+envNATS)
	fs.StringVar(&n.namespace, "namespace", "", "the `NAMESPACE` of the streams, subjects and status bucket, so that environments sharing a NATS\naccount never see each other's events (e.g. -namespace staging: stream FORGET-staging, subjects\nstaging.forget.erased.<preset>); lower-case letters, digits, - and _; without it, the default names.\nEvery serve, relay, deliver, status and redrive of one environment needs the same")
}

// check checks -nats (or $FORGET_NATS), required or not, and tells c its
// secrets.
func (n *natsFlags) check(c *cli, cmd string, required bool) error {
	names, err := propagate.NamesOf(n.namespace)
	if err != nil {
		return usagef("-namespace %s: want 1 to 32 lower-case letters, digits, - or _, starting with a letter or a digit", quoteClipped(n.namespace))
	}
	n.names = names
	if n.url == "" {
		if required {
			return n.missing(cmd)
		}
		return nil
	}
	var secrets []string
	for _, part := range strings.Split(n.url, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		if err != nil || u.Host == "" {
			return usagef("-nats: want nats://HOST:PORT (or several, comma-separated)")
		}
		if u.User != nil {
			// user:password, or a lone token
			if p, ok := u.User.Password(); ok {
				secrets = append(secrets, dsnSecrets(part)...)
				secrets = append(secrets, p)
			} else {
				secrets = append(secrets, u.User.Username())
			}
		}
	}
	if len(secrets) > 0 {
		c.hide(append(secrets, n.url))
	}
	return nil
}

// options are the propagate options the flags give the functions that
// read or redrive; a relay and a deliverer take WithNamespace itself.
func (n *natsFlags) options() []propagate.Option {
	return []propagate.Option{propagate.WithNamespace(n.namespace)}
}

// missing is the usage error of a command that needs -nats without it.
func (n *natsFlags) missing(cmd string) error {
	return usagef("%s needs -nats URL (or $%s)", cmd, envNATS)
}

// where names the server for messages, without credentials.
func (n *natsFlags) where() string {
	var hosts []string
	for _, part := range strings.Split(n.url, ",") {
		if u, err := url.Parse(strings.TrimSpace(part)); err == nil {
			hosts = append(hosts, u.Host)
		}
	}
	return "nats://" + strings.Join(hosts, ",")
}

// connect connects. A long-running command (wait set) connects even when
// the server is down, and reconnects for ever; a one-shot command fails
// at once.
func (n *natsFlags) connect(name string, wait bool, logger *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	opts := []nats.Option{nats.Name("forget " + name), nats.Timeout(5 * time.Second)}
	if wait {
		opts = append(opts,
			nats.MaxReconnects(-1),
			nats.ReconnectWait(250*time.Millisecond),
			nats.RetryOnFailedConnect(true),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				if err != nil {
					logger.Warn("NATS disconnected; reconnecting", "error", err.Error())
				}
			}),
			nats.ReconnectHandler(func(*nats.Conn) { logger.Info("NATS reconnected") }),
		)
	}
	nc, err := nats.Connect(n.url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("NATS %s: %w", n.where(), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("NATS %s: %w", n.where(), err)
	}
	return nc, js, nil
}

const relayUsage = `
Usage: forget relay (-db FILE | -dsn URL) -nats URL [-preset NAME] [-namespace NS] [-admin-addr HOST:PORT]

Publishes the erasure events waiting in the database's outbox (its audit
table, written in each forget's own transaction) to the NATS JetStream
stream FORGET, subject forget.erased.<preset> (with -namespace NS: stream
FORGET-NS, subject NS.forget.erased.<preset>), each with its event id as
Nats-Msg-Id, and marks them published once the broker has acknowledged
them. Runs until interrupted. Killed at any point, it publishes again on
restart what it had not marked, and the stream drops the repeats. Several
relays may run against one PostgreSQL or MySQL/MariaDB database; on
SQLite run one (or 'forget serve -nats', which runs one in-process).

With -admin-addr it serves GET /metrics (forget_outbox_pending,
forget_outbox_oldest_age_seconds, forget_relay_published_total,
forget_parked{destination}, ...), GET /healthz (the process answers) and
GET /readyz (the database and the broker answer).

Examples:
  forget relay -db app.db -nats nats://127.0.0.1:4222
  FORGET_DSN=postgres://app@db/app FORGET_NATS=nats://nats:4222 forget relay
`

func (c *cli) relay(args []string) error {
	fs := c.command("relay", relayUsage)
	dbf := fs.database(true)
	nf := fs.natsServer(true)
	batch := fs.Int("batch", 500, "how many events to claim at once (`N`, 1 to 10000)")
	poll := fs.Duration("poll", 20*time.Millisecond, "how often to look for new events when idle (`DURATION`)")
	logFormat := fs.String("log-format", "text", "log `FORMAT` on stderr: text or json")
	adminAddr := fs.String("admin-addr", "", adminAddrUsage)
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := dbf.needOutbox(); err != nil {
		return err
	}
	logger, err := c.logger(*logFormat)
	if err != nil {
		return err
	}
	ctx, o, done, err := c.openSession(dbf, c.warnLogger())
	if err != nil {
		return err
	}
	defer done()
	nc, js, err := nf.connect("relay", true, logger)
	if err != nil {
		return err
	}
	defer nc.Close()
	adm, err := newAdmin(*adminAddr)
	if err != nil {
		return err
	}
	obs, err := adm.relayOptions()
	if err != nil {
		return err
	}
	preset := dbf.presetName()
	opts := append([]propagate.RelayOption{propagate.WithNamespace(nf.namespace), propagate.WithLogger(logger), propagate.WithPreset(preset), propagate.WithBatch(*batch), propagate.WithPollInterval(*poll)}, obs...)
	r, err := propagate.NewRelay(o.store, js, opts...)
	if err != nil {
		return usageError{err}
	}
	if err := adm.countParked(js, "", logger, nf.options()...); err != nil {
		return err
	}
	stopAdmin, err := c.runAdmin(adm, o.db, logger, brokerReady(nc))
	if err != nil {
		return err
	}
	defer stopAdmin()
	logger.Info("relaying erasure events", "to", nf.where(), "stream", nf.names.Stream, "subject", nf.names.Subject(preset))
	if err := r.Run(ctx); err != nil {
		return err
	}
	logger.Info("relay stopped")
	return nil
}

// adminAddrUsage is -admin-addr's usage for relay and deliver.
const adminAddrUsage = "a `HOST:PORT` serving GET /metrics (Prometheus), GET /healthz (liveness) and GET /readyz\n(database and broker reachable), e.g. -admin-addr 127.0.0.1:9090; off by default, so that metrics are not public"

// runAdmin serves a relay's or deliverer's admin listener (none for a nil
// admin) until the returned function is called; db may be nil.
func (c *cli) runAdmin(adm *admin, db *sql.DB, logger *slog.Logger, ready ...readyCheck) (stop func(), err error) {
	url, err := adm.listenLive(db, logger, ready...)
	if err != nil || url == "" {
		return func() {}, err
	}
	logger.Info("admin listening", "metrics", url+"/metrics", "healthz", url+"/healthz", "readyz", url+"/readyz")
	served := make(chan error, 1)
	go adm.serve(served)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		adm.shutdown(ctx)
		<-served
	}, nil
}

// logger returns a logger to stderr in format (text or json).
func (c *cli) logger(format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(c.stderr, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(c.stderr, nil)), nil
	}
	return nil, usagef("-log-format must be text or json, not %s", quoteClipped(format))
}

// serveRelay is the relay 'forget serve -nats' runs in-process, woken by
// a hook after each commit so that events leave at once.
type serveRelay struct {
	nf    *natsFlags
	relay atomic.Pointer[propagate.Relay]
	nc    *nats.Conn // once started
}

// options returns the Forgetter's wake-up hook, when there is a relay.
func (s *serveRelay) options() []forget.Option {
	if s.nf.url == "" {
		return nil
	}
	return []forget.Option{forget.WithHook("relay", func(context.Context, forget.Receipt) error {
		if r := s.relay.Load(); r != nil {
			r.Wake()
		}
		return nil
	})}
}

// observe returns the relay's options that feed adm's metrics, when
// there is a relay: without one, an outbox gauge would read 0 for ever.
func (s *serveRelay) observe(adm *admin) ([]propagate.RelayOption, error) {
	if s.nf.url == "" {
		return nil, nil
	}
	return adm.relayOptions()
}

// ready is /readyz's check of the broker, when there is a relay.
func (s *serveRelay) ready() []readyCheck {
	if s.nc == nil {
		return nil
	}
	return []readyCheck{brokerReady(s.nc)}
}

// start runs the relay, with opts added, until ctx ends; wait returns
// once it has stopped. Without -nats it does nothing.
func (s *serveRelay) start(ctx context.Context, o *opened, preset string, logger *slog.Logger, opts ...propagate.RelayOption) (wait func(), err error) {
	if s.nf.url == "" {
		return func() {}, nil
	}
	nc, js, err := s.nf.connect("serve", true, logger)
	if err != nil {
		return nil, err
	}
	r, err := propagate.NewRelay(o.store, js, append([]propagate.RelayOption{propagate.WithNamespace(s.nf.namespace), propagate.WithLogger(logger), propagate.WithPreset(preset)}, opts...)...)
	if err != nil {
		nc.Close()
		return nil, err
	}
	s.nc = nc
	s.relay.Store(r)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	logger.Info("relaying erasure events", "to", s.nf.where(), "stream", s.nf.names.Stream, "subject", s.nf.names.Subject(preset))
	return func() { <-done; nc.Close() }, nil
}
