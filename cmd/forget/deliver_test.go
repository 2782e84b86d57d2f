package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/forgetkit/forget/internal/outboxtest"
	"github.com/forgetkit/forget/propagate"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestCrashDeliver kills `forget deliver` with SIGKILL at random moments
// mid-delivery, crashKills times, while the host forgets customers and a
// relay publishes their events; the webhook answers slowly so that kills
// land while requests are in flight. After a last deliverer has caught
// up, every event has reached the webhook at least once (repeats share a
// webhook-id) and its status says delivered.
func TestCrashDeliver(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kills a real process many times")
	}
	bin := buildForget(t)
	ns := startTestNATS(t)
	_, db := crashDB(t, bin, 500)
	stop := background(t, db, sqlstore.SQLite, 500, 2*time.Millisecond)
	s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		t.Fatal(err)
	}
	relay, err := propagate.NewRelay(s, ns.js(), propagate.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	relayDone := make(chan struct{})
	go func() { defer close(relayDone); relay.Run(ctx) }()
	defer func() { cancel(); <-relayDone }()

	hook := newHookReceiver(t, 8*time.Millisecond)
	secret := hook.secretFile(t)
	deliver := func() *exec.Cmd {
		return exec.Command(bin, "deliver", "-nats", ns.url(), "-name", "crm", "-webhook", hook.srv.URL+"/forget", "-secret-file", secret, "-backoff", "300ms", "-workers", "4")
	}
	rnd := rand.New(rand.NewPCG(20261129, 13))
	kills := 0
	for round := 0; kills < crashKills(t) && round < 500; round++ {
		if killAfter(t, deliver(), time.Duration(100+rnd.IntN(400))*time.Millisecond) {
			kills++
		}
	}
	committed := stop()
	waitUntil(t, 30*time.Second, "the relay to publish every event", func() bool {
		_, _, n := outboxtest.AuditEvents(t, db)
		return n == 0
	})
	all, _, _ := outboxtest.AuditEvents(t, db)
	missingAtLastKill, _ := hook.missing(all)
	last := deliver()
	if err := last.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 120*time.Second, "every event at the webhook", func() bool {
		m, _ := hook.missing(all)
		return len(m) == 0
	})
	_, repeats := hook.missing(all)
	// Status: every event delivered to crm.
	js := ns.js()
	kv, err := js.KeyValue(context.Background(), propagate.StatusBucket)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "every status to say delivered", func() bool {
		for _, id := range all {
			e, err := kv.Get(context.Background(), id+".crm")
			var d propagate.Delivery
			if err != nil || json.Unmarshal(e.Value(), &d) != nil || d.State != propagate.StateDelivered {
				return false
			}
		}
		return true
	})
	last.Process.Signal(syscall.SIGTERM)
	if err := last.Wait(); err != nil {
		t.Errorf("deliver after SIGTERM: %v", err)
	}
	checkExactlyOnce(t, db, js)
	t.Logf("%d SIGKILLs of deliver; %d forgets committed; %d events, %d still undelivered at the last kill; %d repeated deliveries (same webhook-id)",
		kills, committed, len(all), len(missingAtLastKill), repeats)
}
