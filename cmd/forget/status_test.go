package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forgetkit/forget/internal/outboxtest"
	"github.com/forgetkit/forget/propagate"
)

// TestStatusAndRedriveCommands: the commands end to end. A relay
// publishes; two deliverers serve crm (whose receiver fails one event
// with 500s) and search; status shows, for that customer, search
// delivered and crm parked with its error class (exit 3); redrive -list
// lists it; once the receiver is fixed, redrive sends it and status says
// delivered everywhere (exit 0). Nothing the database holds of the
// customer is printed.
func TestStatusAndRedriveCommands(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the command as separate processes")
	}
	bin := buildForget(t)
	ns := startTestNATS(t)
	path, db := crashDB(t, bin, 200)
	for _, id := range []string{"191", "192", "191"} {
		// -repropagate: 191's second forget is a repeat, and this test
		// follows its event.
		if out, err := exec.Command(bin, "run", "-db", path, "-customer-id", id, "-repropagate").CombinedOutput(); err != nil {
			t.Fatalf("run %s: %v\n%s", id, err, out)
		}
	}
	var personal string
	if err := db.QueryRow("SELECT phone FROM customers WHERE customer_id = 193").Scan(&personal); err != nil || personal == "" {
		t.Fatalf("demo customer 193 has no phone: %v", err)
	}
	run := func(args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), personal) {
			t.Errorf("forget %s printed a personal value", args[0])
		}
		return out.String(), code
	}
	if out, code := run("status", "-db", path, "-nats", ns.url(), "-customer-id", "191"); code != exitPending || !strings.Contains(out, "waiting in the outbox") ||
		!strings.Contains(out, "outbox: 3 event(s) unpublished, the oldest committed ") || strings.Contains(out, "is a relay running") {
		t.Fatalf("status before any relay: exit %d\n%s", code, out)
	}
	relay := exec.Command(bin, "relay", "-db", path, "-nats", ns.url())
	if err := relay.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the relay", func() bool { _, _, n := outboxtest.AuditEvents(t, db); return n == 0 })
	relay.Process.Signal(syscall.SIGTERM)
	relay.Wait()

	all, byCustomer, _ := outboxtest.AuditEvents(t, db)
	failing := byCustomer["191"][1]
	crm, search := newHookReceiver(t, 0), newHookReceiver(t, 0)
	crm.fail = func(id string) bool { return id == failing }
	var deliverers []*exec.Cmd
	for name, r := range map[string]*hookReceiver{"crm": crm, "search": search} {
		d := exec.Command(bin, "deliver", "-nats", ns.url(), "-name", name, "-webhook", r.srv.URL+"/hook?token=s3cr3t", "-secret-file", r.secretFile(t), "-backoff", "50ms,100ms", "-max-deliver", "3")
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		deliverers = append(deliverers, d)
	}
	defer func() {
		for _, d := range deliverers {
			d.Process.Signal(syscall.SIGTERM)
			d.Wait()
		}
	}()
	waitUntil(t, 30*time.Second, "search to get everything", func() bool { m, _ := search.missing(all); return len(m) == 0 })
	var out string
	var code int
	waitUntil(t, 30*time.Second, "crm to park the failing event", func() bool {
		out, code = run("status", "-db", path, "-nats", ns.url(), "-customer-id", "191")
		return strings.Contains(out, "parked")
	})
	t.Logf("forget status -customer-id 191, with crm parked:\n%s", out)
	if code != exitPending || !strings.Contains(out, "customer 191: 2 erasure event(s)") || !strings.Contains(out, "last error http_500") ||
		!strings.Contains(out, "3 attempt(s)") || strings.Count(out, "search  delivered") != 2 || strings.Contains(out, "s3cr3t") {
		t.Fatalf("status with a parked event: exit %d\n%s", code, out)
	}
	jsonOut, code := run("status", "-db", path, "-nats", ns.url(), "-customer-id", "191", "-json")
	var ev propagate.EventStatus
	if err := json.Unmarshal([]byte(strings.SplitN(jsonOut, "\n", 2)[0]), &ev); err != nil || code != exitPending || len(ev.Destinations) != 2 {
		t.Fatalf("status -json: exit %d, %v\n%s", code, err, jsonOut)
	}
	if out, code := run("redrive", "-nats", ns.url(), "-name", "crm", "-list"); code != 0 || !strings.Contains(out, failing) || !strings.Contains(out, "1 event(s) parked for crm") {
		t.Fatalf("redrive -list: exit %d\n%s", code, out)
	}
	// Across customers: the parked one, with its class, and nothing at
	// search, which has delivered everything.
	out, code = run("deliveries", "-nats", ns.url())
	if code != exitPending || !regexp.MustCompile(failing+`\s+crm\s+parked\s+3\s+http_500\s`).MatchString(out) || strings.Contains(out, "search") || !strings.Contains(out, "1 delivery parked, retrying") {
		t.Fatalf("deliveries: exit %d\n%s", code, out)
	}
	if out, code := run("deliveries", "-nats", ns.url(), "-name", "search"); code != 0 || !strings.Contains(out, "no deliveries parked, retrying") {
		t.Errorf("deliveries -name search: exit %d\n%s", code, out)
	}
	jsonOut, code = run("deliveries", "-nats", ns.url(), "-state", "parked", "-json")
	var d propagate.Delivery
	if err := json.Unmarshal([]byte(jsonOut), &d); err != nil || code != exitPending || d.EventID != failing || d.Destination != "crm" || d.State != propagate.StateParked || d.ParkedAt.IsZero() {
		t.Fatalf("deliveries -json: exit %d, %v\n%s", code, err, jsonOut)
	}
	if out, code := run("deliveries", "-nats", ns.url(), "-state", "delivered", "-name", "search"); code != exitPending || strings.Count(out, " search ") != len(all) {
		t.Errorf("deliveries -state delivered -name search: exit %d, want %d rows\n%s", code, len(all), out)
	}
	crm.mu.Lock()
	crm.fail = nil // the receiver is fixed
	crm.mu.Unlock()
	if out, code := run("redrive", "-nats", ns.url(), "-name", "crm"); code != 0 || !strings.Contains(out, "sent 1 parked event(s) back to crm") {
		t.Fatalf("redrive: exit %d\n%s", code, out)
	}
	waitUntil(t, 30*time.Second, "status to say delivered everywhere", func() bool {
		out, code = run("status", "-db", path, "-nats", ns.url(), "-customer-id", "191")
		return code == 0
	})
	if strings.Count(out, "delivered") != 4 {
		t.Errorf("status after redrive:\n%s", out)
	}
	if out, code := run("deliveries", "-nats", ns.url(), "-state", "parked,retrying"); code != 0 || !strings.Contains(out, "no deliveries") {
		t.Errorf("deliveries after redrive: exit %d\n%s", code, out)
	}
	if out, code := run("deliveries", "-nats", ns.url(), "-state", "pending"); code != exitUsage || !strings.Contains(out, "no record") {
		t.Errorf("deliveries -state pending: exit %d\n%s", code, out)
	}
	if out, code := run("status", "-db", path, "-nats", ns.url(), "-customer-id", "199"); code != 0 || !strings.Contains(out, "no erasure events") {
		t.Errorf("status of a customer never forgotten: exit %d\n%s", code, out)
	}
	if out, code := run("status", "-db", path, "-nats", "nats://127.0.0.1:1", "-customer-id", "191"); code != exitFailed {
		t.Errorf("status with NATS down: exit %d\n%s", code, out)
	}
}

// TestStatusShowsGone: a destination that answered 410 Gone is named
// first, with what resumes it; the others are not.
func TestStatusShowsGone(t *testing.T) {
	var out bytes.Buffer
	c := &cli{stdout: &out, stderr: &out}
	at := time.Date(2026, 12, 8, 1, 2, 3, 0, time.UTC)
	events := []propagate.EventStatus{{Destinations: []propagate.Delivery{
		{Destination: "crm", State: propagate.StateParked, ParkedAt: at, LastError: "gone"},
		{Destination: "search", State: propagate.StateDelivered, DeliveredAt: at, Attempts: 1},
	}}}
	events[0].CustomerID, events[0].EventID, events[0].At = "191", "ydjapnd2mfe6rscg7kt6nnt3yq", at
	if got := destinationNames(append(events, events...)); strings.Join(got, ",") != "crm,search" {
		t.Errorf("destinationNames = %v", got)
	}
	c.printStatus("191", events, []propagate.Destination{{Name: "crm", Gone: true, GoneAt: at}}, at)
	want := "destination crm is GONE since 2026-12-08T01:02:03Z: it answered 410 Gone, so its events are parked, none attempted; 'forget redrive -name crm' resumes deliveries\n"
	if !strings.Contains(out.String(), "customer 191: 1 erasure event(s)\n"+want) || strings.Contains(out.String(), "search is GONE") || !strings.Contains(out.String(), "last error gone") {
		t.Errorf("status:\n%s", out.String())
	}
	t.Logf("status with crm gone:\n%s", out.String())
}

// TestDeliverHelpSaysTheSpan: -h says how long the default schedule
// spans, and it is what the defaults give.
func TestDeliverHelpSaysTheSpan(t *testing.T) {
	if span := propagate.Span(propagate.DefaultMaxDeliver, propagate.DefaultBackOff()); span != 75*time.Hour+35*time.Minute+5*time.Second {
		t.Fatalf("the default schedule spans %s; update deliverUsage", span)
	}
	if !strings.Contains(strings.Join(strings.Fields(deliverUsage), " "), "spans 3 days 3 hours 35 minutes") {
		t.Error("forget deliver -h does not say how long the default schedule spans")
	}
	if got := formatDelays(propagate.DefaultBackOff()); got != "5s,5m,30m,2h,5h,10h,14h,20h,24h" {
		t.Errorf("formatDelays = %s", got)
	}
	if got, err := parseDelays(formatDelays(propagate.DefaultBackOff())); err != nil || formatDelays(got) != formatDelays(propagate.DefaultBackOff()) {
		t.Errorf("-backoff's default does not read back: %v, %v", got, err)
	}
}
