package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestServeDemo does what a newcomer does: builds the command, runs
// `forget serve` with no flags, pastes each printed curl line, and looks at
// the database. The curl lines are run as curl would run them, parsed from
// the printed text, so the test fails if the text stops working.
func TestServeDemo(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary and seeds a demo database")
	}
	dir := t.TempDir()
	bin := buildForget(t)
	port := strconv.Itoa(freePort(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "-addr", "127.0.0.1:"+port)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	srv := startServe(t, cmd, func(line string) bool { return strings.HasPrefix(line, "Press Ctrl-C") })
	stderr := srv.stderr
	text := srv.banner
	dbPath := regexp.MustCompile(`demo SQLite database (\S+) \(1000 customers\)`).FindStringSubmatch(text)
	if dbPath == nil {
		t.Fatalf("banner does not name the demo database:\n%s\nstderr:\n%s", text, stderr.String())
	}
	var curls []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "curl ") {
			curls = append(curls, l)
		}
	}
	if len(curls) != 3 {
		t.Fatalf("want 3 curl lines, got %d:\n%s", len(curls), text)
	}
	wantBodies := []*regexp.Regexp{
		regexp.MustCompile(`^true$`),
		regexp.MustCompile(`^true$`),
		regexp.MustCompile(`^\{"customer_id":"193",.*"dry_run":true`),
	}
	for i, line := range curls {
		status, body := runCurlLine(t, line)
		if status != 200 || !wantBodies[i].MatchString(body) {
			t.Errorf("%s\n=> %d %s", line, status, body)
		}
	}

	db, err := openSQLite(dbPath[1])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var username, firstname, lastname string
	var notes, auth int
	row := db.QueryRow(`SELECT username, firstname, lastname, (SELECT COUNT(*) FROM member_note WHERE customer_id = 191), (SELECT COUNT(*) FROM member_auth WHERE customer_id = 191) FROM customers WHERE customer_id = 191`)
	if err := row.Scan(&username, &firstname, &lastname, &notes, &auth); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(username, "forgot-") || firstname != "" || lastname != "" || notes != 0 || auth != 0 {
		t.Errorf("customer 191 not forgotten: username pseudonym %v, names empty %v, rows %d/%d",
			strings.HasPrefix(username, "forgot-"), firstname == "" && lastname == "", notes, auth)
	}
	row = db.QueryRow(`SELECT firstname, lastname, (SELECT COUNT(*) FROM member_note WHERE customer_id = 192) FROM customers WHERE customer_id = 192`)
	if err := row.Scan(&firstname, &lastname, &notes); err != nil {
		t.Fatal(err)
	}
	if firstname == "" || lastname != "" || notes != 3 {
		t.Errorf("customer 192: firstname kept %v, lastname erased %v, notes %d (want 3)", firstname != "", lastname == "", notes)
	}
	row = db.QueryRow(`SELECT firstname FROM customers WHERE customer_id = 193`)
	if err := row.Scan(&firstname); err != nil || firstname == "" {
		t.Errorf("the dry run changed customer 193: %v", err)
	}

	// Ctrl-C shuts down cleanly.
	if err := srv.stop(); err != nil {
		t.Errorf("serve exited with %v after SIGINT; stderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("no shutdown in the log:\n%s", stderr.String())
	}
}

// runCurlLine performs a printed `curl -X M URL -H 'k: v' -d a=b` line.
func runCurlLine(t *testing.T, line string) (int, string) {
	t.Helper()
	args := shellWords(line)
	var method, url string
	var headers [][2]string
	var data []string
	for i := 1; i < len(args); i++ {
		switch args[i] {
		case "-X":
			i++
			method = args[i]
		case "-H":
			i++
			k, v, _ := strings.Cut(args[i], ":")
			headers = append(headers, [2]string{k, strings.TrimSpace(v)})
		case "-d":
			i++
			data = append(data, args[i])
		default:
			if strings.HasPrefix(args[i], "-") {
				t.Fatalf("curl line uses an option this test does not know: %s", args[i])
			}
			url = args[i]
		}
	}
	req, err := http.NewRequest(method, url, strings.NewReader(strings.Join(data, "&")))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // what curl -d sends
	for _, h := range headers {
		req.Header.Set(h[0], h[1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// shellWords splits a line as a POSIX shell would for the quoting the
// banner uses: single quotes and plain words.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
