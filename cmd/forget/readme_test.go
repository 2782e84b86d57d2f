package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEShowsWhatServePrints keeps the README honest: its first
// command is `go run ./cmd/forget serve`, and the output it shows is what
// the banner prints (but for the random key and the cache directory).
func TestREADMEShowsWhatServePrints(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	blocks := regexp.MustCompile("(?s)```(\\w*)\n(.*?)```").FindAllStringSubmatch(readme, -1)
	if len(blocks) < 2 || strings.TrimSpace(blocks[0][2]) != "go run ./cmd/forget serve" {
		t.Fatalf("the README's first command is not go run ./cmd/forget serve")
	}
	shown := blocks[1][2]
	key := regexp.MustCompile(`fk_[a-z0-9]+`).FindString(shown)
	if key == "" {
		t.Fatalf("the README's output shows no key:\n%s", shown)
	}
	var out strings.Builder
	c := &cli{stdout: &out}
	c.banner("http://127.0.0.1:8080/api/customer/forget",
		"demo SQLite database /root/.cache/forget/demo.db (1000 customers)",
		1, key)
	if out.String() != shown {
		t.Errorf("README shows:\n%s\nserve prints:\n%s", shown, out.String())
	}
}
