package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forgetkit/forget/propagate"
)

const deliveriesUsage = `
Usage: forget deliveries -nats URL [-state parked,retrying] [-name NAME] [-json] [-namespace NS]

Lists the deliveries in the given states across customers, from the
status bucket every 'forget deliver' records its attempts in: event id,
destination, state, attempts, the class of the last failure (http_500,
timeout, connection_refused, ...) and when it was last attempted,
delivered or parked. Never a value of a customer's, nor a customer id:
'forget status -customer-id ID' shows one customer's events. States:
parked, retrying (attempted, not delivered yet) and delivered; an event
not attempted yet has no record. It reads every record of the
destination (of all, without -name): a listing, not a probe; the admin
port's forget_parked and forget_deliveries_total are for alerts.

Exit status: 0 when none is listed, 3 when some are, 1 on failure, 2 on
bad usage.

Examples:
  forget deliveries -nats nats://127.0.0.1:4222
  forget deliveries -nats nats://127.0.0.1:4222 -state parked -name crm -json
`

func (c *cli) deliveries(args []string) error {
	fs := c.command("deliveries", deliveriesUsage)
	nf := fs.natsServer(true)
	states := fs.String("state", "parked,retrying", "the `STATES` to list, comma-separated: parked, retrying, delivered")
	name := fs.String("name", "", "only the destination `NAME`'s (e.g. -name crm)")
	asJSON := fs.Bool("json", false, "print JSON, one delivery per line")
	if err := fs.parse(args); err != nil {
		return err
	}
	var want []string
	for _, s := range strings.Split(*states, ",") {
		switch s = strings.TrimSpace(s); s {
		case propagate.StateParked, propagate.StateRetrying, propagate.StateDelivered:
			want = append(want, s)
		case propagate.StatePending:
			return usagef("-state pending: a pending event has no record yet; 'forget status -customer-id ID' shows it")
		default:
			return usagef("-state %s: want parked, retrying or delivered, comma-separated", quoteClipped(s))
		}
	}
	ctx, stop := interruptible()
	defer stop()
	nc, js, err := nf.connect("deliveries", false, c.warnLogger())
	if err != nil {
		return err
	}
	defer nc.Close()
	list, truncated, err := propagate.ListDeliveries(ctx, js, *name, want, nf.options()...)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		for _, d := range list {
			if err := enc.Encode(d); err != nil {
				return err
			}
		}
	} else {
		c.printDeliveries(list, strings.Join(want, ", "))
	}
	if truncated {
		fmt.Fprintf(c.stderr, "forget: deliveries: only the first %d are listed; narrow with -name or -state\n", len(list))
	}
	if len(list) > 0 {
		return exitError(exitPending)
	}
	return nil
}

func (c *cli) printDeliveries(list []propagate.Delivery, states string) {
	if len(list) == 0 {
		fmt.Fprintf(c.stdout, "no deliveries %s\n", states)
		return
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tDESTINATION\tSTATE\tATTEMPTS\tLAST ERROR\tLAST ATTEMPT\tSINCE")
	for _, d := range list {
		since := "-"
		switch d.State {
		case propagate.StateParked:
			since = stamp(d.ParkedAt)
		case propagate.StateDelivered:
			since = stamp(d.DeliveredAt)
		}
		lastErr := d.LastError
		if lastErr == "" {
			lastErr = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.EventID, d.Destination, d.State, d.Attempts, lastErr, stamp(d.LastAttemptAt), since)
	}
	tw.Flush()
	fmt.Fprintf(c.stdout, "%d deliver%s %s\n", len(list), map[bool]string{true: "y", false: "ies"}[len(list) == 1], states)
}
