package forget_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/memseed"
	"github.com/forgetkit/forget/store/memstore"
	"github.com/forgetkit/forget/store/storetest"
)

// natsServer serves the NATS member contract over a memstore holding
// member 39 with an auth row and a login log row.
func natsServer(t *testing.T, opts ...forget.HandlerOption) (*httptest.Server, *memstore.Store) {
	t.Helper()
	st := memseed.New(t, []storetest.Customer{{ID: "39", Fields: map[forget.Field]string{forget.Username: "member39", forget.Firstname: "Ada"},
		Rows: map[forget.Table]int{forget.MemberAuth: 1, forget.LiveMemberLoginlog: 1}}})
	f := quietForgetterT(t, st, forget.WithCatalogue(forget.NATSMemberCatalogue()))
	keys, err := forget.NewAPIKeys(map[string]string{testUser: testKey})
	if err != nil {
		t.Fatal(err)
	}
	h, err := forget.NewHandler(f, keys, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, st
}

func quietForgetterT(t *testing.T, s forget.Store, opts ...forget.Option) *forget.Forgetter {
	t.Helper()
	f, err := forget.New(s, append([]forget.Option{forget.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func patch(t *testing.T, url, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPatch, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("api-username", testUser)
	req.Header.Set("api-key", testKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

const formCT = "application/x-www-form-urlencoded"

func TestNATSMemberContract(t *testing.T) {
	t.Parallel()
	srv, st := natsServer(t, forget.WithContract(forget.NATSMember()))
	for _, tc := range []struct {
		name, ct, body string
		status         int
		want           string
	}{
		{"CustomerIDIsUnknown", formCT, "customer_id=39", 400, `unknown parameter \"customer_id\"; expected memberid, keep or dry_run`},
		{"OrderIDIsUnknown", "application/json", `{"orderid": 1}`, 400, `unknown parameter \"orderid\"`},
		{"NoMemberID", formCT, "keep=firstname", 400, `"data":"give memberid"`},
		{"BlankMemberID", formCT, "memberid=%20", 400, `"data":"give memberid"`},
		{"MalformedMemberID", formCT, "memberid=abc", 400, `"data":"memberid must be an integer"`},
		{"Twice", formCT, "memberid=39&memberid=40", 400, "memberid is given more than once"},
		{"BadJSONType", "application/json", `{"memberid": true}`, 400, "memberid must be a string or a number"},
		{"UnknownMember", formCT, "memberid=40", 404, "not_found"},
		{"UnknownKeepTable", formCT, "memberid=39&keep=member_tmp", 400, "member_tmp"},
		{"DryRun", "application/json", `{"memberid": 39, "dry_run": true, "keep": ["EpochTransStats"]}`, 200, `"tables_kept":["epochtransstats"]`},
		{"Forget", formCT, "memberid=39&keep=firstname,MemberCancelStats", 200, `{"result":true}`},
		{"Again", "application/json", `{"memberid": "39"}`, 200, `{"result":true}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := patch(t, srv.URL, tc.ct, tc.body)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("%d %s; want %d with %s", status, body, tc.status, tc.want)
			}
		})
	}
	c, _ := st.Customer("39")
	if c.Fields[forget.Firstname] != "" || c.Fields[forget.Username] == "member39" {
		t.Errorf("member 39 after the forget: %+v", c.Fields)
	}
	if rows := st.Rows(forget.LiveMemberLoginlog, "39"); len(rows) != 0 {
		t.Errorf("login log rows left: %d", len(rows))
	}
}

// TestDefaultContractUnchanged: without WithContract, and with Offerit's
// contract given explicitly, the handler answers Offerit's way.
func TestDefaultContractUnchanged(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]forget.HandlerOption{"Default": nil, "Explicit": {forget.WithContract(forget.OfferitCustomer())}} {
		t.Run(name, func(t *testing.T) {
			srv, _ := natsServer(t, opts...)
			if status, body := patch(t, srv.URL, formCT, "memberid=39"); status != 400 || !strings.Contains(body, "expected customer_id, subscription_id, orderid, keep or dry_run") {
				t.Errorf("memberid: %d %s", status, body)
			}
			if status, body := patch(t, srv.URL, formCT, "customer_id=abc"); status != 400 || !strings.Contains(body, "customer_id must be an integer") {
				t.Errorf("customer_id=abc: %d %s", status, body)
			}
			if status, body := patch(t, srv.URL, formCT, "keep=firstname"); status != 400 || !strings.Contains(body, "give at least one of customer_id, subscription_id or orderid") {
				t.Errorf("no lookup: %d %s", status, body)
			}
			if status, body := patch(t, srv.URL, formCT, "customer_id=39"); status != 200 || body != "true" {
				t.Errorf("customer_id=39: %d %s", status, body)
			}
		})
	}
}

func TestContractValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []forget.Contract{forget.OfferitCustomer(), forget.NATSMember()} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
		if !json.Valid([]byte(c.Success)) {
			t.Errorf("%s: success %q", c.Name, c.Success)
		}
	}
	for _, tc := range []struct {
		c    forget.Contract
		want string
	}{
		{forget.Contract{Success: "true"}, "no lookup parameter"},
		{forget.Contract{Lookups: []forget.LookupParam{{"", forget.KeyCustomerID}}, Success: "true"}, "must be 1 to 64 printable ASCII"},
		{forget.Contract{Lookups: []forget.LookupParam{{"mem ber", forget.KeyCustomerID}}, Success: "true"}, "must be 1 to 64 printable ASCII"},
		{forget.Contract{Lookups: []forget.LookupParam{{"keep", forget.KeyCustomerID}}, Success: "true"}, "is reserved"},
		{forget.Contract{Lookups: []forget.LookupParam{{"a", forget.KeyCustomerID}, {"a", forget.KeyOrderID}}, Success: "true"}, "is given twice"},
		{forget.Contract{Lookups: []forget.LookupParam{{"a", forget.KeyCustomerID}, {"b", forget.KeyCustomerID}}, Success: "true"}, "two lookup parameters fill customer_id"},
		{forget.Contract{Lookups: []forget.LookupParam{{"a", "email"}}, Success: "true"}, "which is not a lookup key"},
		{forget.Contract{Lookups: []forget.LookupParam{{"a", forget.KeyCustomerID}}, Success: "{result: true,}"}, "not JSON"},
	} {
		err := tc.c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.c, err, tc.want)
		}
		st := memstore.New()
		if _, err := forget.NewHandler(quietForgetterT(t, st), forget.HostAuthenticated(), forget.WithContract(tc.c)); err == nil {
			t.Errorf("NewHandler accepted %+v", tc.c)
		}
	}
}

func TestNATSMemberCatalogue(t *testing.T) {
	t.Parallel()
	c := forget.NATSMemberCatalogue()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Fields) != 23 || len(c.Tables) != 16 {
		t.Errorf("%d fields, %d tables; want 23 and 16", len(c.Fields), len(c.Tables))
	}
	kept, err := c.ParseKeep("EpochTransStats, MEMBER_TEMP, payze_event")
	if err != nil || strings.Join(kept, ",") != "member_temp,epochtransstats,payze_event" {
		t.Errorf("ParseKeep: %q, %v", kept, err)
	}
}
