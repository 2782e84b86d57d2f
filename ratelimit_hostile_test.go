package forget_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	forget "github.com/forgetkit/forget"
)

// A username over 128 bytes shares its bucket with every username with the
// same first 128 bytes: failures for one lock out the other.
func TestAuthLimitLongUsernamesApart(t *testing.T) {
	t.Parallel()
	h, _, _ := limitedHandler(t, nil)
	victim := strings.Repeat("v", 128) + "-alice"
	for i := 0; i < forget.DefaultAuthBurst; i++ {
		attempt(h, "192.0.2."+strconv.Itoa(i+1)+":1", strings.Repeat("v", 128)+"-mallory", "wrong")
	}
	rec := attempt(h, "198.51.100.7:1", victim, "wrong")
	if rec.Code == http.StatusTooManyRequests {
		t.Fatalf("a different username's failures emptied %q's bucket: %d", victim[:10]+"...", rec.Code)
	}
}

// A RemoteAddr the limiter cannot parse to an address ("" as some
// listeners give) disables the per-address bucket: a username spray from
// it is never limited.
func TestAuthLimitAddresslessClientsLimited(t *testing.T) {
	t.Parallel()
	h, _, _ := limitedHandler(t, nil)
	for i := 0; i < 5*forget.DefaultAuthBurst; i++ {
		rec := attempt(h, "", "user"+strconv.Itoa(i), "wrong")
		if rec.Code == http.StatusTooManyRequests {
			return
		}
	}
	t.Fatalf("%d failures for distinct usernames from RemoteAddr \"\" were never limited", 5*forget.DefaultAuthBurst)
}
