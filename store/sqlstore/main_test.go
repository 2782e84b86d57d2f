package sqlstore_test

import (
	"os"
	"testing"

	"github.com/forgetkit/forget/internal/long"
)

func TestMain(m *testing.M) {
	long.Parallel(4)
	os.Exit(m.Run())
}
