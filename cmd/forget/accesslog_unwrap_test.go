package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestAccessLogReachesConnection: serve's access log wraps the
// ResponseWriter without hiding the connection, so that the handler can
// set a read deadline to drain an oversized body before its 413 (else a
// client that writes its whole body first is reset).
func TestAccessLogReachesConnection(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(accessLog(slog.New(slog.NewTextHandler(io.Discard, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(time.Second)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("SetReadDeadline through the access log: %d %s", res.StatusCode, body)
	}
}
