package propagate

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestServerCompatibility creates the streams and consumers propagate
// uses, under names of the test's own, on the NATS server of
// $FORGET_TEST_NATS (the one hosts run, which may be older than the
// in-process one: Debian's 2.9 refuses a MaxDeliver of -1 with BackOff),
// publishes, consumes, naks with a delay and deletes everything.
func TestServerCompatibility(t *testing.T) {
	t.Parallel()
	url := os.Getenv("FORGET_TEST_NATS")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("FORGET_TEST_NATS is not set; under CI it must be")
		}
		t.Skip("FORGET_TEST_NATS is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	tag := strings.ToLower(rand.Text()[:10])
	set, err := consumerSettings([]ConsumerOption{WithBackOff(50*time.Millisecond, 100*time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range []jetstream.StreamConfig{StreamConfig(DefaultDuplicateWindow), ParkedStreamConfig()} {
		cfg := base
		cfg.Name = base.Name + "_COMPAT_" + strings.ToUpper(tag)
		for i, s := range cfg.Subjects {
			cfg.Subjects[i] = "compat" + tag + "." + s
		}
		if _, err := js.CreateStream(ctx, cfg); err != nil {
			t.Fatalf("create stream %s: %v", cfg.Name, err)
		}
		defer js.DeleteStream(context.Background(), cfg.Name)
		subject := strings.TrimSuffix(cfg.Subjects[0], ">") + "x"
		if _, err := js.Publish(ctx, subject, []byte("{}"), jetstream.WithMsgID("compat-"+tag), jetstream.WithExpectStream(cfg.Name)); err != nil {
			t.Fatalf("publish: %v", err)
		}
		if ack, err := js.Publish(ctx, subject, []byte("{}"), jetstream.WithMsgID("compat-"+tag)); err != nil || !ack.Duplicate {
			t.Fatalf("a repeat was not dropped: %+v, %v", ack, err)
		}
		cons, err := js.CreateOrUpdateConsumer(ctx, cfg.Name, consumerConfig("crm", cfg.Subjects[0], set))
		if err != nil {
			t.Fatalf("consumer on %s: %v", cfg.Name, err)
		}
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			if err := m.NakWithDelay(10 * time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
		if n != 1 {
			t.Fatalf("%s: fetched %d messages, want 1", cfg.Name, n)
		}
		batch, err = cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			md, _ := m.Metadata()
			if md.NumDelivered != 2 {
				t.Errorf("redelivery %d, want 2", md.NumDelivered)
			}
			m.Ack()
			n++
		}
		if n != 2 {
			t.Fatalf("%s: the nak'd message did not come again", cfg.Name)
		}
	}
}

// systemJetStream connects to the NATS server of $FORGET_TEST_NATS.
func systemJetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	url := os.Getenv("FORGET_TEST_NATS")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("FORGET_TEST_NATS is not set; under CI it must be")
		}
		t.Skip("FORGET_TEST_NATS is not set")
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// TestParkEndsDeliveryOnSystemServer: the terminate a park sends must end
// the delivery on the server hosts run. nats-server 2.9 ignores a
// terminate with a reason; the message then came back after every
// back-off and held a slot of MaxAckPending for good.
func TestParkEndsDeliveryOnSystemServer(t *testing.T) {
	t.Parallel()
	js := systemJetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := checkServer(js); err != nil {
		t.Fatalf("the system server is refused: %v", err)
	}
	tag := strings.ToLower(rand.Text()[:10])
	name := "PARKEND_" + strings.ToUpper(tag)
	subject := "parkend" + tag + ".x"
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subject}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	defer js.DeleteStream(context.Background(), name)
	if _, err := js.Publish(ctx, subject, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	set, err := consumerSettings([]ConsumerOption{WithBackOff(50 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, name, consumerConfig("crm", subject, set))
	if err != nil {
		t.Fatal(err)
	}
	m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := endDelivery(m); err != nil {
		t.Fatal(err)
	}
	if again, err := cons.Next(jetstream.FetchMaxWait(time.Second)); err == nil {
		md, _ := again.Metadata()
		t.Fatalf("the ended message came again (delivery %d)", md.NumDelivered)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending != 0 {
		t.Fatalf("%d messages still await an ack after the terminate, want 0", info.NumAckPending)
	}
}

func TestServerVersions(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"2.9.0": true, "2.9.10": true, "2.10.0": true, "v2.15.1": true, "2.11.0-beta.2": true, "3.0.0": true,
		"2.8.4": false, "2.2.0": false, "1.4.1": false, "": false, "2.9": false, "x.y.z": false,
	} {
		if got := versionAtLeast(v, MinServerVersion); got != want {
			t.Errorf("versionAtLeast(%q) = %v, want %v", v, got, want)
		}
	}
	var old *UnsupportedServerError
	err := error(&UnsupportedServerError{Version: "2.8.4"})
	if !errors.As(err, &old) || !strings.Contains(err.Error(), "2.8.4") || !strings.Contains(err.Error(), MinServerVersion) {
		t.Errorf("error %q does not name both versions", err)
	}
}
