package main

import (
	"encoding/binary"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestServeCheckpointsInBackground runs forget serve on a SQLite database
// whose forgets never checkpoint by themselves (-sqlite-checkpoint at its
// maximum): with -sqlite-checkpoint-every 0 the WAL holds every forget it
// served and is never restarted; with background checkpoints it is copied
// and
// is restarted (its header's checkpoint sequence number counts restarts,
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
	checkpointed, restarts := wal("5ms")
	t.Logf("WAL after %d forgets: %d bytes, restarted %d times with background checkpoints; %d bytes, %d times without", forgets, checkpointed, restarts, grown, never)
	if never != 0 || restarts < 2 || checkpointed >= grown {
		t.Error("want the WAL restarted with background checkpoints (and smaller), never without")
	}
}
