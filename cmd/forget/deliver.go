package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/forgetkit/forget/propagate"
)

const deliverUsage = `
Usage: forget deliver -nats URL -name NAME -webhook URL -secret-file FILE [-namespace NS] [-admin-addr HOST:PORT]

Delivers every erasure event of the stream FORGET (FORGET-NS with
-namespace NS) to one destination, by POSTing it to a webhook, signed as
Standard Webhooks prescribe: headers webhook-id (the event id: receivers
drop repeats by it), webhook-timestamp and webhook-signature
(v1,<base64 HMAC-SHA256 of "id.timestamp.body"> under the secret). A 2xx
answer is a delivery. Anything else is retried by the broker after the
-backoff delays, each lengthened by up to 10% at random; after
-max-deliver failed attempts (a deliverer killed mid-attempt uses none
up) the event is parked, 'forget status' shows it and 'forget redrive'
sends it again. The default schedule (the Standard Webhooks spec's) spans
3 days 3 hours 35 minutes, so a receiver down for a day parks nothing.

410 Gone stops deliveries to the destination: its events are parked, a
loud log says so, 'forget status' shows it gone, and 'forget redrive'
resumes it. 429, 502, 503 and 504 ask to slow down: the next attempt
waits their Retry-After (1s to 24h) or the next -backoff delay, and they
count no failure (at most 10 x -max-deliver retries in all).

The destination is a durable consumer named NAME: run several 'forget
deliver' with one name to share its work, one name per destination.
Runs until interrupted.

The secret file holds whsec_ followed by base64 (24 bytes or more);
'forget deliver -new-secret' prints a fresh one for you to give the
receiver. To rotate it, the file may hold several, one per line: each
request is signed under all of them, and a receiver that knows any one
accepts it.

With -admin-addr it serves GET /metrics (forget_deliveries_total
{destination,outcome}, forget_parked{destination}, ...), GET /healthz
(the process answers) and GET /readyz (the broker answers).

Examples:
  forget deliver -new-secret > crm.secret
  forget deliver -nats nats://127.0.0.1:4222 -name crm -webhook https://crm.example.com/hooks/forget -secret-file crm.secret
`

func (c *cli) deliver(args []string) error {
	fs := c.command("deliver", deliverUsage)
	nf := fs.natsServer(false) // not for -new-secret
	name := fs.String("name", "", "the destination's `NAME`: letters, digits, - and _ (e.g. -name crm)")
	hook := fs.String("webhook", "", "the `URL` to POST each event to (http or https)")
	secretFile := fs.String("secret-file", "", "a `FILE` holding the webhook's secret, whsec_<base64>, or several, one per line, while one is rotated")
	newSecret := fs.Bool("new-secret", false, "print a fresh secret and exit")
	maxDeliver := fs.Int("max-deliver", propagate.DefaultMaxDeliver, "failed attempts before an event is parked (`N`); a deliverer killed mid-attempt uses none up")
	backoff := fs.String("backoff", formatDelays(propagate.DefaultBackOff()), "the delays before each retry, comma-separated (`LIST`); the last repeats")
	timeout := fs.Duration("timeout", 10*time.Second, "how long one POST may take (`DURATION`)")
	workers := fs.Int("workers", 4, "how many events to deliver at once (`N`)")
	logFormat := fs.String("log-format", "text", "log `FORMAT` on stderr: text or json")
	adminAddr := fs.String("admin-addr", "", adminAddrUsage)
	if err := fs.parse(args); err != nil {
		return err
	}
	if *newSecret {
		fmt.Fprintln(c.stdout, propagate.NewSecret())
		return nil
	}
	if nf.url == "" {
		return nf.missing("deliver")
	}
	if *name == "" || *hook == "" || *secretFile == "" {
		return usagef("deliver needs -name, -webhook and -secret-file")
	}
	delays, err := parseDelays(*backoff)
	if err != nil {
		return usagef("-backoff: %v", err)
	}
	data, err := os.ReadFile(*secretFile)
	if err != nil {
		return usagef("-secret-file: %v", err)
	}
	secret := strings.TrimSpace(string(data))
	var hidden []string
	for _, s := range strings.Fields(secret) {
		hidden = append(hidden, s, strings.TrimPrefix(s, "whsec_"))
	}
	c.hide(hidden)
	wh, err := propagate.NewWebhook(*hook, secret, *timeout)
	if err != nil {
		return usageError{err}
	}
	logger, err := c.logger(*logFormat)
	if err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	nc, js, err := nf.connect("deliver "+*name, true, logger)
	if err != nil {
		return err
	}
	defer nc.Close()
	adm, err := newAdmin(*adminAddr)
	if err != nil {
		return err
	}
	obs, err := adm.consumerOptions(*name)
	if err != nil {
		return err
	}
	if err := adm.countParked(js, *name, logger, nf.options()...); err != nil {
		return err
	}
	stopAdmin, err := c.runAdmin(adm, nil, logger, brokerReady(nc))
	if err != nil {
		return err
	}
	defer stopAdmin()
	logger.Info("delivering erasure events", "destination", *name, "from", nf.where(), "webhook", wh.Where())
	err = propagate.Consume(ctx, js, *name, wh.Deliver, append([]propagate.ConsumerOption{
		propagate.WithNamespace(nf.namespace),
		propagate.WithLogger(logger),
		propagate.WithMaxDeliver(*maxDeliver),
		propagate.WithBackOff(delays...),
		propagate.WithAttemptTimeout(*timeout + time.Second),
		propagate.WithWorkers(*workers)}, obs...)...)
	if err != nil {
		return usageError{err}
	}
	logger.Info("deliver stopped", "destination", *name)
	return nil
}

// formatDelays writes delays as -backoff reads them, shortest form.
func formatDelays(delays []time.Duration) string {
	parts := make([]string, len(delays))
	for i, d := range delays {
		s := d.String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		parts[i] = s
	}
	return strings.Join(parts, ",")
}

// parseDelays reads a comma-separated list of durations.
func parseDelays(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s is not a positive duration (e.g. 30s, 2m)", quoteClipped(part))
		}
		out = append(out, d)
	}
	if len(out) > 100 {
		return nil, fmt.Errorf("%d delays: at most 100", len(out))
	}
	return out, nil
}
