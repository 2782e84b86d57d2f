// Package streamtest reads the erasure events stream for tests: the
// command's crash tests and the propagate tests check it the same way.
package streamtest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/propagate"
)

// Receipts returns the events stream's receipts in stream order (none
// while no relay has created the stream). Each message's Nats-Msg-Id must
// be its event id: the broker drops duplicates by it.
func Receipts(t testing.TB, js jetstream.JetStream) []forget.Receipt {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, propagate.StreamName)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []forget.Receipt
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("stream message %d: %v", seq, err)
		}
		var rc forget.Receipt
		if err := json.Unmarshal(m.Data, &rc); err != nil {
			t.Fatalf("stream message %d: %v", seq, err)
		}
		if id := m.Header.Get(jetstream.MsgIDHeader); id != rc.EventID {
			t.Errorf("stream message %d: Nats-Msg-Id %q, event id %q", seq, id, rc.EventID)
		}
		out = append(out, rc)
	}
	return out
}
