package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/forgetkit/forget/internal/testdb"
)

// TestShopPropose: on the shop (uuid keys on PostgreSQL, native UUID on
// MariaDB), inspect -propose writes a mapping that loads as it is, and a
// forget with it of one customer leaves every row that held none of her
// values or ids byte for byte as it was: whatever the proposal leaves
// out, it touches no other customer's row and no unrelated one.
func TestShopPropose(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := openShop(t, e)
			code, mapping, errOut := shopCLI(t, append([]string{"inspect", "-propose", "-customers", "users"}, s.args...)...)
			if code != exitOK {
				t.Fatalf("inspect -propose: exit %d\n%s", code, errOut)
			}
			file := filepath.Join(t.TempDir(), "proposal.json")
			if err := os.WriteFile(file, []byte(mapping), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := shopCLI(t, append([]string{"lint", "-schema", file}, s.args...)...)
			if code != exitOK {
				t.Fatalf("lint of the proposal as it is: exit %d\n%s\n%s\n%s", code, out, errOut, mapping)
			}
			before := s.dump(t)
			id := s.idText(userID(shopForgotten))
			if code, out, errOut := shopCLI(t, append([]string{"run", "-schema", file, "-customer-id", id}, s.args...)...); code != exitOK {
				t.Fatalf("run with the proposal: exit %d\n%s\n%s\n%s", code, out, errOut, mapping)
			}
			after := s.dump(t)
			if (shopDump{"users": before["users"]}).text() == (shopDump{"users": after["users"]}).text() {
				t.Errorf("%s: the forget with the proposal changed no user", e.Name)
			}
			forgotten := shopPlanted(shopForgotten)
			owned := s.ownedIDs()
			for name := range shopKeys {
				if name == "customer_directory" {
					continue // a view over users: it follows them
				}
				now := map[string]string{}
				for _, r := range after[name].rows {
					now[r.key] = r.String()
				}
				for _, r := range before[name].rows {
					dirty := false
					for _, c := range r.cells {
						if _, ok := holdsAny(c, forgotten); ok || owned[c] {
							dirty = true
						}
					}
					if got, ok := now[r.key]; !dirty && (!ok || got != r.String()) {
						t.Errorf("%s: %s row %s, none of the forgotten customer's, changed or went:\n  before %s\n  after  %s\nproposal:\n%s", e.Name, name, r.key, r, got, mapping)
					}
				}
			}
		})
	}
}
