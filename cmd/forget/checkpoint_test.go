package main

import (
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestServeCheckpointsInBackground runs forget serve on a SQLite database
// whose forgets never checkpoint by themselves (-sqlite-checkpoint at its
// maximum): with -sqlite-checkpoint-every 0 the WAL holds every forget it
// served and is never restarted; with background checkpoints it is copied
// and restarted (its header's checkpoint sequence number counts restarts,
// https://www.sqlite.org/fileformat2.html#walformat).
func TestServeCheckpointsInBackground(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built command")
	}
	const forgets = 150
	wal := func(every string) (size int64, restarts uint32) {
		t.Helper()
		path, keys, _ := plantedDB(t)
		srv := startServe(t, exec.Command(buildForget(t), "serve", "-db", path, "-keys", keys, "-addr", "127.0.0.1:0",
			"-sqlite-checkpoint", "1048576", "-sqlite-checkpoint-every", every),
			func(line string) bool { return strings.HasPrefix(line, "forget is serving PATCH ") })
		var apiURL string
		for _, line := range strings.Split(srv.banner, "\n") {
			if u, ok := strings.CutPrefix(line, "forget is serving PATCH "); ok {
				apiURL = u
			}
		}
		for id := 1; id <= forgets; id++ {
			req, _ := http.NewRequest(http.MethodPatch, apiURL, strings.NewReader("customer_id="+strconv.Itoa(id)))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("api-username", plantedUser)
			req.Header.Set("api-key", plantedKey)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("forget of customer %d: %s\n%s", id, res.Status, srv.stderr.String())
			}
		}
		b, err := os.ReadFile(path + "-wal")
		if err != nil || len(b) < 16 {
			t.Fatalf("WAL: %d bytes, %v", len(b), err)
		}
		if err := srv.stop(); err != nil {
			t.Fatalf("serve exited with %v:\n%s", err, srv.stderr.String())
		}
		if strings.Contains(srv.stderr.String(), "checkpoints stopped") {
			t.Errorf("the background checkpoints failed:\n%s", srv.stderr.String())
		}
		return int64(len(b)), binary.BigEndian.Uint32(b[12:16])
	}
	grown, never := wal("0")
	checkpointed, restarts := wal("10ms")
	t.Logf("WAL after %d forgets: %d bytes, restarted %d times with background checkpoints; %d bytes, %d times without", forgets, checkpointed, restarts, grown, never)
	// How many restarts, and how large the file grows between them,
	// depends on the scheduler; that there is a restart, and that the log
	// ends smaller than unchecked, does not.
	if never != 0 || restarts < 1 || checkpointed >= grown {
		t.Error("want the WAL restarted with background checkpoints (and smaller), never without")
	}
}

// TestCrashServeCheckpointing kills forget serve with SIGKILL, 20 times,
// at random moments while four clients send forgets and the WAL is
// checkpointed in the background every 10 ms: after every kill SQLite's
// integrity check passes, no customer is half forgotten or forgotten
// without an audit record, and every forget answered 200 is there.
func TestCrashServeCheckpointing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a real process many times")
	}
	bin := buildForget(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	if out, err := exec.Command(bin, "init", "-db", path, "-demo", strconv.Itoa(crashCustomers)).CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	keys := filepath.Join(dir, "keys")
	if err := os.WriteFile(keys, []byte(plantedUser+":"+plantedKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(20261130, 1))
	acked := map[string]bool{}
	var next atomic.Int64
	restarts := 0 // of the WAL, by the background checkpoints
	for round := range 20 {
		srv := startServe(t, exec.Command(bin, "serve", "-db", path, "-keys", keys, "-addr", "127.0.0.1:0", "-sqlite-checkpoint-every", "10ms"),
			func(line string) bool { return strings.HasPrefix(line, "forget is serving PATCH ") })
		apiURL := strings.TrimSpace(strings.TrimPrefix(srv.banner[strings.LastIndex(srv.banner, "forget is serving PATCH "):], "forget is serving PATCH "))
		var (
			mu   sync.Mutex
			wg   sync.WaitGroup
			stop = make(chan struct{})
		)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					id := strconv.FormatInt(1+next.Add(1)%crashCustomers, 10)
					req, _ := http.NewRequest(http.MethodPatch, apiURL, strings.NewReader("customer_id="+id))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("api-username", plantedUser)
					req.Header.Set("api-key", plantedKey)
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						continue // killed under it: not acknowledged
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode == http.StatusOK {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(20+rnd.IntN(400)) * time.Millisecond)
		srv.cmd.Process.Kill()
		srv.cmd.Wait()
		close(stop)
		wg.Wait()
		if b, err := os.ReadFile(path + "-wal"); err == nil && len(b) >= 16 {
			restarts += int(binary.BigEndian.Uint32(b[12:16])) // before anything opens it again
		}
		forgotten := checkCrashInvariants(t, path, false)
		for id := range acked {
			if !forgotten[id] {
				t.Fatalf("round %d: customer %s was answered 200 but is not forgotten after the kill", round, id)
			}
		}
	}
	if len(acked) < 100 {
		t.Fatalf("only %d forgets acknowledged over 20 rounds: the kills came too early to test anything", len(acked))
	}
	if restarts == 0 {
		t.Fatal("no WAL restart seen in 20 rounds: the kills never met a background checkpoint")
	}
	t.Logf("%d customers forgotten and acknowledged, %d WAL restarts, across 20 kills", len(acked), restarts)
}

// TestServeCheckpointEveryRefused: an interval that would spin an idle
// server, or a negative one, is a usage error, and nothing is served.
func TestServeCheckpointEveryRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built command")
	}
	path, keys, _ := plantedDB(t)
	for _, every := range []string{"-1s", "1ns", "9ms"} {
		out, err := exec.Command(buildForget(t), "serve", "-db", path, "-keys", keys, "-addr", "127.0.0.1:0", "-sqlite-checkpoint-every", every).CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "-sqlite-checkpoint-every must be 0 (off) or at least 10ms") {
			t.Errorf("serve -sqlite-checkpoint-every %s: %v\n%s", every, err, out)
		}
	}
}
