package main

import (
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// -json: a command's report as one JSON object on stdout, in place of
// its text lines, for scripts and monitoring. Names and counts only, as
// the text says them: never a value read from the database.

// jsonSummary registers -json.
func (cmd *command) jsonSummary() *bool {
	return cmd.Bool("json", false, "print the report as one JSON object on stdout instead of text lines\n(names and counts, never a value)")
}

func millis(d time.Duration) int64 { return d.Milliseconds() }

// batchSummary is run -batch's report under -json.
type batchSummary struct {
	Requests  int   `json:"requests"`
	TookMS    int64 `json:"took_ms"`
	DryRun    bool  `json:"dry_run,omitempty"`
	Forgotten int   `json:"forgotten"`
	NotFound  int   `json:"not_found"`
	Invalid   int   `json:"invalid"`
	Conflict  int   `json:"conflict"`
	Held      int   `json:"held"`
	Failed    int   `json:"failed"`
	// Repeats counts forgets that found nothing left to erase; their
	// events were sent only when Repropagated.
	Repeats      int  `json:"repeats"`
	Repropagated bool `json:"repropagated,omitempty"`
	// Stopped says why the batch ended early: "interrupted", or what
	// failed. NotRun counts the requests left, when known.
	Stopped string `json:"stopped,omitempty"`
	NotRun  int    `json:"not_run,omitempty"`
}

// sweepSummary is sweep's report under -json.
type sweepSummary struct {
	forget.SweepReport
	// Total is how many customers were counted inactive before the first
	// page (at most -limit): an upper bound of Tried; -1 when the count
	// failed (the sweep goes on without it).
	Total       int    `json:"total"`
	TookMS      int64  `json:"took_ms"`
	Interrupted bool   `json:"interrupted,omitempty"`
	Error       string `json:"error,omitempty"`
}

// replaySummary is replay's report under -json.
type replaySummary struct {
	Records       int  `json:"records"`
	Forgotten     int  `json:"forgotten"`
	IgnoringHolds int  `json:"ignoring_holds,omitempty"` // forgotten again with the holds their erasure ignored
	NotFound      int  `json:"not_found"`
	Invalid       int  `json:"invalid"`
	Held          int  `json:"held"`
	Failed        int  `json:"failed"`
	NotReplayed   int  `json:"not_replayed,omitempty"`
	Interrupted   bool `json:"interrupted,omitempty"`
}

// lintReport is lint's report under -json.
type lintReport struct {
	OK      bool             `json:"ok"`
	Failing []lintColumn     `json:"failing"`
	Notes   []string         `json:"notes,omitempty"`
	Summary sqlstore.Summary `json:"summary"`
}

type lintColumn struct {
	Column  string `json:"column"`
	Problem string `json:"problem"` // unclassified, likely_personal, review
	Hint    string `json:"hint,omitempty"`
}
