package forget_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/forgetkit/forget"
)

func FuzzParseKeep(f *testing.F) {
	for _, s := range []string{"", "firstname", " FirstName ,, member_NOTE ,", "firstnme,bogus", ",,,", "ＦＩＲＳＴＮＡＭＥ", "\x00,phone"} {
		f.Add(s)
	}
	names := make(map[string]bool)
	cat := forget.DefaultCatalogue()
	for _, fs := range cat.Fields {
		names[string(fs.Name)] = true
	}
	for _, ts := range cat.Tables {
		names[string(ts.Name)] = true
	}
	f.Fuzz(func(t *testing.T, list string) {
		kept, err := forget.DefaultCatalogue().ParseKeep(list)
		if err != nil {
			var un *forget.UnknownNamesError
			if !errors.As(err, &un) || len(un.Names) == 0 || len(un.Names) > forget.MaxUnknownNamesShown || un.Count < len(un.Names) {
				t.Fatalf("error %v is not an UnknownNamesError with a few names and their count", err)
			}
			for _, n := range un.Names {
				cut, wasCut := strings.CutSuffix(n, "...")
				trimmed := strings.TrimLeftFunc(n, unicode.IsSpace) == n && (wasCut || strings.TrimSpace(n) == n)
				if len(n) > forget.MaxUnknownNameBytes || !strings.Contains(list, cut) || !trimmed || n == "" {
					t.Fatalf("unknown name %q is not a trimmed item of the input, cut short", n)
				}
			}
			if len(err.Error()) > 2048 {
				t.Fatalf("message of %d bytes", len(err.Error()))
			}
			return
		}
		for _, n := range kept {
			if !names[n] {
				t.Fatalf("kept %q, which is not in the catalogue", n)
			}
		}
		again, err := forget.DefaultCatalogue().ParseKeep(strings.Join(kept, ","))
		if err != nil || !slices.Equal(again, kept) {
			t.Fatalf("reparsing %q gave %q, %v", kept, again, err)
		}
	})
}

var documentedCodes = map[int]string{
	400: "invalid", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
	409: "conflict", 413: "too_large", 415: "unsupported_media_type", 429: "too_many_requests",
}

func FuzzHandler(f *testing.F) {
	f.Add("PATCH", "", form, "customer_id=191", true, "")
	f.Add("PATCH", "", "application/json", `{"customer_id": 101, "keep": ["firstname"], "dry_run": 1}`, true, "X-Request-Id: abc")
	f.Add("PATCH", "?orderid=1", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"keep\"\r\n\r\nphone\r\n--x--\r\n", true, "")
	f.Add("GET", "", "", "", false, "api-key: x\napi-username: y")
	f.Add("PATCH", "", "application/json", `{"customer_id": "1' OR '1'='1"}`, true, "Content-Encoding: gzip\nTransfer-Encoding: chunked")
	store := seeded(f)
	fg := newForgetter(f, store)
	keys, err := forget.NewAPIKeys(map[string]string{testUser: testKey})
	if err != nil {
		f.Fatal(err)
	}
	h, err := forget.NewHandler(fg, keys)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, query, contentType, body string, auth bool, headers string) {
		if !validMethod(method) {
			method = http.MethodPatch
		}
		req := httptest.NewRequest(http.MethodPatch, "/api/customer/forget", strings.NewReader(body))
		req.Method = method
		if q := strings.TrimPrefix(query, "?"); q != "" {
			req.URL.RawQuery = q
		}
		req.Header.Set("Content-Type", contentType)
		for line := range strings.SplitSeq(headers, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && validMethod(k) {
				req.Header.Add(k, strings.TrimSpace(v))
			}
		}
		if auth {
			req.Header.Set("api-key", testKey)
			req.Header.Set("api-username", testUser)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if req.URL.RawQuery != "" && rec.Code == 200 {
			t.Fatalf("query %q was served", req.URL.RawQuery)
		}
		if rec.Code == 200 {
			if rec.Body.String() != "true" && !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("200 with body %q", rec.Body)
			}
			return
		}
		code, ok := documentedCodes[rec.Code]
		if !ok {
			t.Fatalf("status %d is not documented; body %s", rec.Code, rec.Body)
		}
		var e struct{ Result, Code, Data string }
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Result != "error" || e.Code != code || e.Data == "" {
			t.Fatalf("status %d with body %q", rec.Code, rec.Body)
		}
		if rec.Body.Len() > 2048 {
			t.Fatalf("error body of %d bytes echoes the request", rec.Body.Len())
		}
	})
}

// validMethod reports whether m is an HTTP token, as a real request's
// method must be.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", c) {
			return false
		}
	}
	return true
}
