package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/forgetkit/forget"
)

// TestKeysFileCutOff: a keys file cut off mid-write (its last line has
// no newline) is refused at start, and on SIGHUP the keys in force stay
// and the refusal is logged. It used to be accepted with the cut line's
// prefix as bob's key, locking bob out until the next SIGHUP.
func TestKeysFileCutOff(t *testing.T) {
	t.Parallel()
	const aliceKey, bobKey = "alice-key-0123456789", "bob-key-0123456789abcdef"
	whole := "alice:" + aliceKey + "\nbob:" + bobKey + "\n"
	cut := whole[:len(whole)-6]
	path := filepath.Join(t.TempDir(), "keys")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	write(cut)
	if code, _, errOut := runMain("serve", "-db", filepath.Join(t.TempDir(), "none.db"), "-keys", path); code != exitUsage || !strings.Contains(errOut, "line 2: the last line does not end with a newline") {
		t.Errorf("serve with a cut keys file: exit %d, stderr %q; want %d and the refusal", code, errOut, exitUsage)
	}

	write(whole)
	kt, err := readKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	var keys atomic.Pointer[forget.APIKeys]
	keys.Store(kt)
	hup := make(chan os.Signal)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	go reloadKeysOnHUP(ctx, hup, path, &keys, slog.New(slog.NewTextHandler(&logs, nil)))
	write(cut)
	hup <- syscall.SIGHUP
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "keys file "); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no reload logged")
		}
	}
	if !strings.Contains(logs.String(), "keys file not reloaded") || !strings.Contains(logs.String(), "does not end with a newline") {
		t.Errorf("log: %s", logs.String())
	}
	if strings.Contains(logs.String(), "key-0123") {
		t.Errorf("the log shows a key: %s", logs.String())
	}
	r := httptest.NewRequest("PATCH", "/", nil)
	r.Header.Set("api-username", "bob")
	r.Header.Set("api-key", bobKey)
	if _, err := keys.Load().Authenticate(r); err != nil {
		t.Errorf("bob is locked out after a cut-off file was reloaded: %v", err)
	}
}
