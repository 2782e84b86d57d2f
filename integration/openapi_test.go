// The checks of openapi.yaml against the real handler, so the published
// API description cannot drift from the code. They live in this module
// because kin-openapi is for tests only: hosts must not download it.

package forget_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/memseed"
	"github.com/forgetkit/forget/store/memstore"
	"github.com/forgetkit/forget/store/storetest"
)

const base = "https://example.com/api/customer/forget"

func loadSpec(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not valid OpenAPI: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, router
}

func handler(t *testing.T, opts ...forget.HandlerOption) http.Handler {
	t.Helper()
	// Customer 104 is under a hold, for the 409 held case.
	s := memseed.New(t, append(storetest.Fixtures(), storetest.NewCustomer(104)),
		memstore.WithHold("open_chargeback", func(id string) bool { return id == "104" }))
	f, err := forget.New(s, forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	kt, err := forget.NewAPIKeys(map[string]string{"offerit_admin": "key-1"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := forget.NewHandler(f, kt, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

type specCase struct {
	name        string
	method      string
	contentType string
	body        string
	noAuth      bool
	status      int
	validReq    bool // the request itself conforms to the spec
	query       string
	cancelled   bool // the request's context is cancelled: the client is gone
}

func cases(t *testing.T) []specCase {
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	w.WriteField("orderid", "10201")
	w.WriteField("keep", "phone")
	w.Close()
	form := "application/x-www-form-urlencoded"
	return []specCase{
		{"Form", "PATCH", form, "customer_id=101", false, 200, true, "", false},
		{"FormKeepDryRun", "PATCH", form, "subscription_id=1031&keep=firstname,member_note&dry_run=1", false, 200, true, "", false},
		{"JSON", "PATCH", "application/json", `{"customer_id": 102, "keep": ["firstname"], "dry_run": false}`, false, 200, true, "", false},
		{"JSONDryRun", "PATCH", "application/json", `{"orderid": "10301", "dry_run": true}`, false, 200, true, "", false},
		{"Multipart", "PATCH", w.FormDataContentType(), mp.String(), false, 200, true, "", false},
		{"UnknownKeep", "PATCH", form, "customer_id=101&keep=firstnme", false, 400, true, "", false},
		{"MalformedID", "PATCH", "application/json", `{"customer_id": "abc"}`, false, 400, true, "", false},
		{"UnknownParameter", "PATCH", form, "customer_id=101&kep=phone", false, 400, false, "", false},
		{"NoAuth", "PATCH", form, "customer_id=101", true, 401, false, "", false},
		{"NotFound", "PATCH", form, "customer_id=999", false, 404, true, "", false},
		{"Conflict", "PATCH", form, "customer_id=101&orderid=10201", false, 409, true, "", false},
		{"Held", "PATCH", form, "customer_id=104", false, 409, true, "", false},
		{"TooLarge", "PATCH", form, "customer_id=101&keep=" + strings.Repeat("x", forget.MaxBodyBytes), false, 413, true, "", false},
		{"TextPlain", "PATCH", "text/plain", "customer_id=101", false, 415, false, "", false},
		{"QueryString", "PATCH", form, "customer_id=101", false, 400, false, "?dryRun=1", false},
		{"BareQuestionMark", "PATCH", form, "customer_id=101&dry_run=1", false, 200, true, "?", false},
		{"ManyUnknownKeepNames", "PATCH", form, "customer_id=101&keep=" + strings.Repeat("bogus,", 1000) + "a,b,c,d,e,f", false, 400, true, "", false},
		{"TooManyParameters", "PATCH", form, "customer_id=101" + strings.Repeat("&keep=phone", 1000), false, 400, true, "", false},
		{"ClientGone", "PATCH", form, "customer_id=101", false, 503, true, "", true},
	}
}

// TestHandlerMatchesSpec sends real requests through the handler and
// validates each request that should conform, and every response,
// against openapi.yaml.
func TestHandlerMatchesSpec(t *testing.T) {
	_, router := loadSpec(t)
	seen := checkSpec(t, router, handler(t), base, cases(t))
	for _, status := range []int{200, 400, 401, 404, 409, 413, 415, 503} {
		if !seen[status] {
			t.Errorf("no case produced status %d", status)
		}
	}
}

// TestLimitedMatchesSpec: the limiter's 429, with its Retry-After, as
// openapi.yaml documents it, on both paths.
func TestLimitedMatchesSpec(t *testing.T) {
	_, router := loadSpec(t)
	form := "application/x-www-form-urlencoded"
	for _, c := range []struct {
		url  string
		opts []forget.HandlerOption
		body string
	}{
		{base, nil, "customer_id=101"},
		{"https://example.com/api/member/forget", []forget.HandlerOption{forget.WithContract(forget.NATSMember())}, "memberid=101"},
	} {
		h := handler(t, append(c.opts, forget.WithAuthLimit(forget.AuthLimit{Burst: 1}))...)
		seen := checkSpec(t, router, h, c.url, []specCase{
			{"NoAuth", "PATCH", form, c.body, true, 401, false, "", false},
			{"Limited", "PATCH", form, c.body, true, 429, false, "", false},
		})
		if !seen[429] {
			t.Errorf("%s: no 429", c.url)
		}
	}
}

// TestMemberHandlerMatchesSpec: the NATS member contract's path, as
// openapi.yaml documents it, answered by a handler built with that
// contract.
func TestMemberHandlerMatchesSpec(t *testing.T) {
	_, router := loadSpec(t)
	h := handler(t, forget.WithContract(forget.NATSMember()))
	form := "application/x-www-form-urlencoded"
	seen := checkSpec(t, router, h, "https://example.com/api/member/forget", []specCase{
		{"Form", "PATCH", form, "memberid=101", false, 200, true, "", false},
		{"JSONDryRun", "PATCH", "application/json", `{"memberid": 102, "keep": ["firstname"], "dry_run": true}`, false, 200, true, "", false},
		{"CustomerIDIsUnknown", "PATCH", form, "customer_id=101", false, 400, false, "", false},
		{"NotFound", "PATCH", form, "memberid=999", false, 404, true, "", false},
		{"Held", "PATCH", form, "memberid=104", false, 409, true, "", false},
		{"NoAuth", "PATCH", form, "memberid=101", true, 401, false, "", false},
	})
	for _, status := range []int{200, 400, 401, 404, 409} {
		if !seen[status] {
			t.Errorf("no case produced status %d", status)
		}
	}
}

// checkSpec sends each case's request to h at url and validates each
// request that should conform, and every response, against the spec;
// it returns the statuses seen.
func checkSpec(t *testing.T, router routers.Router, h http.Handler, url string, cases []specCase) map[int]bool {
	t.Helper()
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
	}
	seen := map[int]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, url+tc.query, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.contentType)
			if !tc.noAuth {
				req.Header.Set("api-key", "key-1")
				req.Header.Set("api-username", "offerit_admin")
			}
			route, pathParams, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("the spec has no route for %s %s: %v", tc.method, url, err)
			}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route, Options: opts}
			if tc.validReq {
				if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
					t.Fatalf("request does not match the spec: %v", err)
				}
				req.Body = io.NopCloser(strings.NewReader(tc.body)) // validation read it
			}
			if tc.cancelled {
				ctx, cancel := context.WithCancel(req.Context())
				cancel()
				req = req.WithContext(ctx)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			seen[rec.Code] = true
			out := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: in,
				Status:                 rec.Code,
				Header:                 rec.Header(),
				Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
				Options:                opts,
			}
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Errorf("response %d %s does not match the spec: %v", rec.Code, rec.Body, err)
			}
		})
	}
	return seen
}

// TestSpecErrorCodes: the codes the spec lists are the handler's.
func TestSpecErrorCodes(t *testing.T) {
	doc, _ := loadSpec(t)
	var inSpec []string
	for _, v := range doc.Components.Schemas["Error"].Value.Properties["code"].Value.Enum {
		inSpec = append(inSpec, v.(string))
	}
	inCode := []string{forget.CodeInvalid, forget.CodeUnauthorized, forget.CodeNotFound, forget.CodeMethodNotAllowed,
		forget.CodeConflict, forget.CodeHeld, forget.CodeTooLarge, forget.CodeUnsupportedMediaType, forget.CodeTooManyRequests,
		forget.CodeInternal, forget.CodeCanceled}
	slices.Sort(inSpec)
	slices.Sort(inCode)
	if !slices.Equal(inSpec, inCode) {
		t.Errorf("spec codes %v, handler codes %v", inSpec, inCode)
	}
	op := doc.Paths.Find("/api/customer/forget").Patch
	// 417, 431, 501 and 505 come from net/http, before the handler runs
	// (the root package's TestNetHTTPAnswersFirst pins them).
	for _, status := range []string{"200", "400", "401", "404", "405", "409", "413", "415", "417", "429", "431", "500", "501", "503", "505"} {
		if op.Responses.Value(status) == nil {
			t.Errorf("the spec does not document %s", status)
		}
	}
}
