package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/certificate"
	"github.com/forgetkit/forget/propagate"
)

const statusUsage = `
Usage: forget status (-db FILE | -dsn URL) -nats URL -customer-id ID [-json] [-namespace NS]

Shows, for each erasure of one customer, when it was committed and
published, and where it has reached: each destination (each name a
'forget deliver' runs under) as delivered, retrying, pending or parked,
with its attempts and the class of its last failure (http_500, timeout,
connection_refused, ...). A destination that answered 410 Gone, and so
gets no more events until 'forget redrive', is named first, as gone.
Each event's signed certificate is summed up (key, fields, tables,
mapping digest, verification); -json prints it whole. Never a value of
the customer's. An event not
published yet shows how long it has waited in the outbox, and the
outbox's whole backlog: a running relay publishes within a second or so
of a commit, so a longer wait means no relay runs, or it cannot reach
the database or the broker (its log and its /readyz say which).
'forget deliveries' lists parked and retrying deliveries across
customers.

Exit status: 0 when every event is published and delivered everywhere,
3 when some are pending, retrying or parked, 1 on failure, 2 on bad usage.

Examples:
  forget status -db app.db -nats nats://127.0.0.1:4222 -customer-id 191
  forget status -dsn postgres://app@db/app -nats nats://nats:4222 -customer-id 191 -json
`

// exitPending is forget status's answer when something has not reached
// every destination yet.
const exitPending = 3

func (c *cli) status(args []string) error {
	fs := c.command("status", statusUsage)
	dbf := fs.database(true)
	nf := fs.natsServer(true)
	customer := fs.String("customer-id", "", "the customer's `ID`")
	asJSON := fs.Bool("json", false, "print JSON, one event per line")
	if err := fs.parse(args); err != nil {
		return err
	}
	id := strings.TrimSpace(*customer)
	if id == "" {
		return usagef("status needs -customer-id")
	}
	if err := dbf.needOutbox(); err != nil {
		return err
	}
	ctx, o, done, err := c.openSession(dbf, c.warnLogger())
	if err != nil {
		return err
	}
	defer done()
	nc, js, err := nf.connect("status", false, c.warnLogger())
	if err != nil {
		return err
	}
	defer nc.Close()
	events, err := propagate.Status(ctx, js, o.store, id, nf.options()...)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		for _, ev := range events {
			if err := enc.Encode(ev); err != nil {
				return err
			}
		}
	} else {
		var gone []propagate.Destination
		for _, name := range destinationNames(events) {
			d, err := propagate.DestinationStatus(ctx, js, name, nf.options()...)
			if err != nil {
				return err
			}
			if d.Gone {
				gone = append(gone, d)
			}
		}
		c.printStatus(id, events, gone, time.Now())
		if !allPublished(events) {
			c.printBacklog(ctx, o.store, time.Now())
		}
	}
	if !everywhere(events) {
		return exitError(exitPending)
	}
	return nil
}

// everywhere reports whether every event is published and delivered to
// every destination.
func everywhere(events []propagate.EventStatus) bool {
	for _, ev := range events {
		if ev.PublishedAt.IsZero() || len(ev.Destinations) == 0 {
			return false // nobody has been told
		}
		for _, d := range ev.Destinations {
			if d.State != propagate.StateDelivered {
				return false
			}
		}
	}
	return true
}

// destinationNames returns the destinations of events, each once.
func destinationNames(events []propagate.EventStatus) []string {
	var names []string
	for _, ev := range events {
		for _, d := range ev.Destinations {
			if !slices.Contains(names, d.Destination) {
				names = append(names, d.Destination)
			}
		}
	}
	return names
}

// allPublished reports whether every event has left the outbox.
func allPublished(events []propagate.EventStatus) bool {
	for _, ev := range events {
		if ev.PublishedAt.IsZero() {
			return false
		}
	}
	return true
}

// printBacklog says what waits in the whole outbox, when the store can
// count it. Whether a relay runs it cannot see, and does not say.
func (c *cli) printBacklog(ctx context.Context, outbox forget.Outbox, now time.Time) {
	st, ok := outbox.(forget.OutboxStats)
	if !ok {
		return
	}
	b, err := st.Backlog(ctx)
	if err != nil || b.Pending == 0 {
		return
	}
	fmt.Fprintf(c.stdout, "\noutbox: %d event(s) unpublished, the oldest committed %s ago; a running relay publishes within a second or so\n", b.Pending, waited(now, b.Oldest))
}

// waited is how long ago t was, to the second.
func waited(now, t time.Time) string { return max(now.Sub(t), 0).Round(time.Second).String() }

func (c *cli) printStatus(id string, events []propagate.EventStatus, gone []propagate.Destination, now time.Time) {
	w := c.stdout
	if len(events) == 0 {
		fmt.Fprintf(w, "customer %s: no erasure events\n", quoteClipped(id))
		return
	}
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	fmt.Fprintf(w, "customer %s: %d erasure event(s)\n", events[0].CustomerID, len(events))
	for _, d := range gone {
		fmt.Fprintf(w, "destination %s is GONE since %s: it answered 410 Gone, so its events are parked, none attempted; 'forget redrive -name %s' resumes deliveries\n", d.Name, stamp(d.GoneAt), d.Name)
	}
	for _, ev := range events {
		published := "waiting in the outbox for " + waited(now, ev.At)
		if !ev.PublishedAt.IsZero() {
			published = "published " + stamp(ev.PublishedAt)
		}
		fmt.Fprintf(w, "\nevent %s  forgotten %s  %s\n", ev.EventID, stamp(ev.At), published)
		fmt.Fprintf(w, "  %s\n", certificateLine(ev.Certificate))
		if len(ev.Destinations) == 0 {
			fmt.Fprintf(w, "  no destinations: no 'forget deliver' has run yet\n")
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, d := range ev.Destinations {
			var detail []string
			switch d.State {
			case propagate.StateDelivered:
				detail = append(detail, "at "+stamp(d.DeliveredAt))
			case propagate.StateParked:
				detail = append(detail, "since "+stamp(d.ParkedAt), "'forget redrive -name "+d.Destination+"' sends it again")
			case propagate.StatePending:
				if ev.PublishedAt.IsZero() {
					detail = append(detail, "after publication")
				}
			}
			if d.Attempts > 0 {
				detail = append(detail, fmt.Sprintf("%d attempt(s)", d.Attempts))
			}
			if d.LastError != "" && d.State != propagate.StateDelivered {
				detail = append(detail, "last error "+d.LastError)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", d.Destination, d.State, strings.Join(detail, ", "))
		}
		tw.Flush()
	}
}

// certificateLine says what an event's certificate states, in a line (the
// certificate itself: forget audit, or status -json).
func certificateLine(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "no certificate (committed without -signing-key-file)"
	}
	c, err := certificate.Parse(raw)
	if err != nil {
		return fmt.Sprintf("an unreadable certificate (%v); 'forget certificate verify' says more", err)
	}
	digest := c.MappingDigest
	if digest == "" {
		digest = "none stated"
	}
	return fmt.Sprintf("certificate signed by %s: %d field(s) erased, %d table(s), mapping %s, %s; check it with 'forget certificate verify'",
		c.KeyID, len(c.FieldsErased), len(c.Tables), digest, c.Verification.Statement)
}
