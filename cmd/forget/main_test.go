package main

import (
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary run as the real forget command inside
// scripts: testscript installs it on the scripts' PATH.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"forget": func() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar against the real binary.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("XDG_CACHE_HOME", env.WorkDir+"/cache")
			env.Setenv("PORT", strconv.Itoa(freePort(env.T())))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"gencsv":   cmdGenCSV,
			"httpcall": cmdHTTPCall,
			"sqlq":     cmdSQLQuery,
		},
	})
}

func freePort(t interface{ Fatal(...any) }) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// gencsv N FILE writes a CSV batch of N requests over customers 1..N,
// with known bad rows: every 1000th keeps an unknown name, every 997th
// names a missing customer, every 1499th has a malformed id, and row 5555
// has a field too many.
func cmdGenCSV(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gencsv N FILE")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	var b strings.Builder
	b.WriteString("customer_id,subscription_id,orderid,keep\n")
	for i := 1; i <= n; i++ {
		switch {
		case i%1000 == 0:
			fmt.Fprintf(&b, "%d,,,\"firstname,bogus\"\n", i)
		case i%997 == 0:
			b.WriteString("999999,,,\n")
		case i%1499 == 0:
			b.WriteString("abc,,,\n")
		case i == 5555:
			fmt.Fprintf(&b, "%d,,,,extra\n", i)
		case i%3 == 0:
			fmt.Fprintf(&b, "%d,,,\n", i)
		case i%3 == 1:
			fmt.Fprintf(&b, ",%d,,member_note\n", i*10+1)
		default:
			fmt.Fprintf(&b, ",,%d,\"firstname, phone\"\n", i*100+1)
		}
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(b.String()), 0o644))
}

// httpcall METHOD PATH USER KEY BODY sends a form request to the server on
// $PORT, waiting up to 10s for it to listen, and prints "STATUS BODY".
func cmdHTTPCall(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 5 {
		ts.Fatalf("usage: httpcall METHOD PATH USER KEY BODY")
	}
	url := "http://127.0.0.1:" + ts.Getenv("PORT") + args[1]
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, err := http.NewRequest(args[0], url, strings.NewReader(args[4]))
		ts.Check(err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("api-username", args[2])
		req.Header.Set("api-key", args[3])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			if time.Now().After(deadline) {
				ts.Fatalf("server did not answer: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		ts.Check(err)
		fmt.Fprintf(ts.Stdout(), "%d %s\n", res.StatusCode, body)
		return
	}
}

// sqlq DB QUERY prints the query's rows, columns separated by |.
func cmdSQLQuery(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sqlq DB QUERY")
	}
	db, err := openSQLite(ts.MkAbs(args[0]))
	ts.Check(err)
	defer db.Close()
	rows, err := db.Query(args[1])
	ts.Check(err)
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		ts.Check(rows.Scan(dest...))
		var parts []string
		for _, v := range vals {
			if v.Valid {
				parts = append(parts, v.String)
			} else {
				parts = append(parts, "NULL")
			}
		}
		fmt.Fprintln(ts.Stdout(), strings.Join(parts, "|"))
	}
	ts.Check(rows.Err())
}
