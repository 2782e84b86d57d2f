package forget

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Contract is the wire contract of a vendor's forget endpoint: the body
// parameters that name the customer, and what a successful forget
// answers. The handler's behaviour is otherwise the same for every
// contract (authentication, keep, dry_run, errors). [OfferitCustomer] is
// the default; [NATSMember] is the same vendor's member product.
type Contract struct {
	// Name says which endpoint this is, for messages and documentation.
	Name string
	// Path is where the vendor serves it; hosts may mount it anywhere.
	Path string
	// Lookups are the parameters that name the customer, each filling one
	// lookup key (KeyCustomerID, KeySubscriptionID or KeyOrderID). Any
	// other lookup parameter is unknown, and refused.
	Lookups []LookupParam
	// Success is the JSON body of a successful forget (a dry run answers
	// its receipt instead).
	Success string
}

// LookupParam maps a request parameter to a lookup key.
type LookupParam struct {
	Param string // as the caller sends it: "memberid"
	Key   string // KeyCustomerID, KeySubscriptionID or KeyOrderID
}

// OfferitCustomer is Offerit's PATCH /api/customer/forget: customer_id,
// subscription_id or orderid; success is a bare true.
func OfferitCustomer() Contract {
	return Contract{
		Name: "Offerit PATCH /api/customer/forget",
		Path: "/api/customer/forget",
		Lookups: []LookupParam{
			{KeyCustomerID, KeyCustomerID}, {KeySubscriptionID, KeySubscriptionID}, {KeyOrderID, KeyOrderID},
		},
		Success: "true",
	}
}

// NATSMember is NATS's PATCH /api/member/forget: memberid, the member's
// own id, fills the customer key; success is {"result":true}.
func NATSMember() Contract {
	return Contract{
		Name:    "NATS PATCH /api/member/forget",
		Path:    "/api/member/forget",
		Lookups: []LookupParam{{"memberid", KeyCustomerID}},
		Success: `{"result":true}`,
	}
}

// Validate reports what is wrong with c: no lookup, a parameter that is
// empty, repeated or a reserved name (keep, dry_run), a key that is not a
// lookup key or is filled twice, a Success body that is not JSON.
func (c Contract) Validate() error {
	var errs []error
	if len(c.Lookups) == 0 {
		errs = append(errs, errors.New("no lookup parameter"))
	}
	params, keys := map[string]bool{}, map[string]bool{}
	for _, l := range c.Lookups {
		switch {
		case l.Param == "" || len(l.Param) > 64 || strings.ContainsFunc(l.Param, func(r rune) bool { return r <= ' ' || r > '~' }):
			errs = append(errs, fmt.Errorf("lookup parameter %q must be 1 to 64 printable ASCII characters", cutName(l.Param, 64)))
		case l.Param == paramKeep || l.Param == paramDryRun:
			errs = append(errs, fmt.Errorf("lookup parameter %q is reserved", l.Param))
		case params[l.Param]:
			errs = append(errs, fmt.Errorf("lookup parameter %q is given twice", l.Param))
		}
		params[l.Param] = true
		switch {
		case l.Key != KeyCustomerID && l.Key != KeySubscriptionID && l.Key != KeyOrderID:
			errs = append(errs, fmt.Errorf("lookup parameter %q fills %q, which is not a lookup key", cutName(l.Param, 64), cutName(l.Key, 64)))
		case keys[l.Key]:
			errs = append(errs, fmt.Errorf("two lookup parameters fill %s", l.Key))
		}
		keys[l.Key] = true
	}
	if !json.Valid([]byte(c.Success)) {
		errs = append(errs, errors.New("the success body is not JSON"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("forget: invalid contract %q: %w", cutName(c.Name, 64), errors.Join(errs...))
	}
	return nil
}

// key returns the lookup key param fills, or "" when param is none of
// c's lookup parameters.
func (c *Contract) key(param string) string {
	for _, l := range c.Lookups {
		if l.Param == param {
			return l.Key
		}
	}
	return ""
}

// param returns the parameter that fills key, or key itself.
func (c *Contract) param(key string) string {
	for _, l := range c.Lookups {
		if l.Key == key {
			return l.Param
		}
	}
	return key
}

// expected lists the parameters c accepts, for messages.
func (c *Contract) expected() string {
	var names []string
	for _, l := range c.Lookups {
		names = append(names, l.Param)
	}
	return strings.Join(names, ", ") + ", " + paramKeep + " or " + paramDryRun
}

// lookupNames lists the lookup parameters, for "give ...".
func (c *Contract) lookupNames() string {
	var names []string
	for _, l := range c.Lookups {
		names = append(names, l.Param)
	}
	if len(names) == 1 {
		return names[0]
	}
	return "at least one of " + strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// rename renames the lookup key of a *KeyError to the parameter the
// caller sent ("memberid must be an integer", not customer_id).
func (c *Contract) rename(err error) error {
	var ke *KeyError
	if c == nil || !errors.As(err, &ke) {
		return err
	}
	if p := c.param(ke.Key); p != ke.Key {
		return &KeyError{Key: p, Reason: ke.Reason}
	}
	return err
}

// WithContract serves c instead of Offerit's contract: its lookup
// parameters and its success body. [NewHandler] validates it.
func WithContract(c Contract) HandlerOption {
	return func(h *Handler) { h.contract = &c }
}
