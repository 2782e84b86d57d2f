package forget

import (
	"errors"
	"strconv"
	"strings"
)

// The lookup key names, as they appear in requests.
const (
	KeyCustomerID     = "customer_id"
	KeySubscriptionID = "subscription_id"
	KeyOrderID        = "orderid"
)

// Lookup names the customer to forget by any of three keys. Every key given
// must resolve, and all must name the same customer. A value that is empty
// after trimming spaces counts as absent.
type Lookup struct {
	CustomerID     string // the customer's own id
	SubscriptionID string // the id of one of the customer's subscriptions
	OrderID        string // the event id of one of the customer's transactions
}

// Normalize returns l with spaces trimmed from every key. It returns an
// error wrapping ErrInvalid when no key is left.
func (l Lookup) Normalize() (Lookup, error) {
	l.CustomerID = strings.TrimSpace(l.CustomerID)
	l.SubscriptionID = strings.TrimSpace(l.SubscriptionID)
	l.OrderID = strings.TrimSpace(l.OrderID)
	if l.CustomerID == "" && l.SubscriptionID == "" && l.OrderID == "" {
		return l, invalid("give at least one of customer_id, subscription_id or orderid")
	}
	return l, nil
}

// Keys calls fn for each key given, customer_id first, so that stores
// resolve them in one order and report the first failure deterministically.
func (l Lookup) Keys(fn func(key, value string) error) error {
	for _, kv := range [...]struct{ k, v string }{
		{KeyCustomerID, l.CustomerID},
		{KeySubscriptionID, l.SubscriptionID},
		{KeyOrderID, l.OrderID},
	} {
		if kv.v == "" {
			continue
		}
		if err := fn(kv.k, kv.v); err != nil {
			return err
		}
	}
	return nil
}

// ParseIntKey checks that v is a decimal integer key and returns its
// canonical form ("007" becomes "7"). Stores with integer keys use it so
// that a malformed key is ErrInvalid on every engine.
func ParseIntKey(key, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, &KeyError{Key: key, Reason: "is out of range"}
		}
		return 0, &KeyError{Key: key, Reason: "must be an integer"}
	}
	return n, nil
}
