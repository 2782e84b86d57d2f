package propagate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// MinServerVersion is the oldest nats-server propagate supports: the
// consumer create API with a filter subject, which the JetStream client
// uses, came with 2.9.0 (Debian 12 ships 2.9.10).
const MinServerVersion = "2.9.0"

// UnsupportedServerError is returned at start when the broker is older
// than [MinServerVersion].
type UnsupportedServerError struct {
	Version string // as the server reports it
}

func (e *UnsupportedServerError) Error() string {
	return fmt.Sprintf("propagate: nats-server %s is too old: want %s or later", e.Version, MinServerVersion)
}

// checkServer refuses a broker older than MinServerVersion. A client not
// connected yet reports no version: that is the broker being away, which
// the caller waits out, so it passes here.
func checkServer(js jetstream.JetStream) error {
	nc := js.Conn()
	if nc == nil {
		return nil
	}
	v := nc.ConnectedServerVersion()
	if v == "" {
		return nil
	}
	if !versionAtLeast(v, MinServerVersion) {
		return &UnsupportedServerError{Version: v}
	}
	return nil
}

// versionAtLeast compares major.minor.patch; a pre-release or build
// suffix is ignored, and a version that cannot be read is too old.
func versionAtLeast(v, min string) bool {
	a, okA := parseVersion(v)
	b, _ := parseVersion(min)
	if !okA {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}

func parseVersion(v string) ([3]int, bool) {
	var out [3]int
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, false
		}
		out[i] = n
	}
	return out, true
}
