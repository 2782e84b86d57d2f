package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/forgetkit/forget/store/sqlstore"
)

// The mapping file and the key of its keyed_hash rules, as -schema and
// -hash-key-file name them.

// readSchema reads a JSON mapping with sqlstore.LoadSchema, as a Go host
// loads it: unknown keys are refused, so that a typo is an error rather
// than a silently ignored mapping.
func readSchema(path string) (sqlstore.Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return sqlstore.Schema{}, fmt.Errorf("-schema: %w", err)
	}
	s, err := decodeSchema(data)
	if err != nil {
		return sqlstore.Schema{}, fmt.Errorf("-schema %s: %w", path, err)
	}
	return s, nil
}

// decodeSchema decodes and validates a JSON mapping as -schema reads it.
func decodeSchema(data []byte) (sqlstore.Schema, error) {
	return sqlstore.LoadSchema(bytes.NewReader(data))
}

// minHashKey is the shortest key -hash-key-file takes.
const minHashKey = 16

// readHashKey reads -hash-key-file.
func readHashKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-hash-key-file: %w", err)
	}
	key = bytes.TrimSuffix(bytes.TrimSuffix(key, []byte("\n")), []byte("\r"))
	if len(key) < minHashKey {
		return nil, fmt.Errorf("-hash-key-file %s: the key has %d bytes; it needs at least %d", path, len(key), minHashKey)
	}
	return key, nil
}
