package main

import (
	"fmt"
	"time"

	"github.com/forgetkit/forget/propagate"
)

const redriveUsage = `
Usage: forget redrive -nats URL -name NAME [-list] [-namespace NS]

Sends the events parked for destination NAME (those its webhook failed
-max-deliver times) back to it: the running 'forget deliver -name NAME'
tries each again, with a fresh count of attempts. With -list, prints the
parked events (event id, when parked, attempts, last error class) and
sends nothing. Fix the receiver first.

Examples:
  forget redrive -nats nats://127.0.0.1:4222 -name crm -list
  forget redrive -nats nats://127.0.0.1:4222 -name crm
`

func (c *cli) redrive(args []string) error {
	fs := c.command("redrive", redriveUsage)
	nf := fs.natsServer(true)
	name := fs.String("name", "", "the destination's `NAME` (e.g. -name crm)")
	list := fs.Bool("list", false, "list the parked events; send nothing")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *name == "" {
		return usagef("redrive needs -name")
	}
	ctx, stop := interruptible()
	defer stop()
	nc, js, err := nf.connect("redrive", false, c.warnLogger())
	if err != nil {
		return err
	}
	defer nc.Close()
	if *list {
		parked, err := propagate.ListParked(ctx, js, *name, nf.options()...)
		if err != nil {
			return err
		}
		for _, p := range parked {
			fmt.Fprintf(c.stdout, "%s  parked %s  %d attempt(s)  last error %s\n", p.EventID, p.ParkedAt.Format(time.RFC3339), p.Attempts, p.LastError)
		}
		fmt.Fprintf(c.stdout, "%d event(s) parked for %s\n", len(parked), *name)
		return nil
	}
	n, err := propagate.Redrive(ctx, js, *name, nf.options()...)
	if err != nil {
		return fmt.Errorf("%w (%d sent before)", err, n)
	}
	fmt.Fprintf(c.stdout, "sent %d parked event(s) back to %s\n", n, *name)
	return nil
}
