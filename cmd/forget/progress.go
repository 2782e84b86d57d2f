package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressMode is -progress: auto (a bar on a terminal, else lines), bar,
// lines or none.
type progressMode string

func (m *progressMode) String() string { return string(*m) }

func (m *progressMode) Set(s string) error {
	switch s {
	case "auto", "bar", "lines", "none":
		*m = progressMode(s)
		return nil
	}
	return fmt.Errorf("-progress must be auto, bar, lines or none")
}

// progress registers -progress.
func (cmd *command) progress() *progressMode {
	m := progressMode("auto")
	cmd.Var(&m, "progress", "progress `MODE`: auto (a bar on a terminal, else lines), bar, lines or none")
	return &m
}

// progress shows how far a batch, replay or sweep is, with its rate and,
// when the total is known, the time left: a redrawn bar on a terminal, a
// plain line every tenth otherwise.
type progress struct {
	w      io.Writer
	mode   progressMode // bar, lines or none
	total  int          // -1: unknown
	now    func() time.Time
	start  time.Time
	last   time.Time // bar: the last redraw
	step   int       // lines: the last tenth printed (or ten thousand, with no total)
	drawn  bool      // bar: a bar is on the line
	barLen int
}

// newProgress shows progress on w; auto is a bar when tty (w is a
// terminal), lines otherwise.
func newProgress(w io.Writer, mode progressMode, total int, tty bool, now func() time.Time) *progress {
	if mode == "auto" {
		mode = "lines"
		if tty {
			mode = "bar"
		}
	}
	return &progress{w: w, mode: mode, total: total, now: now, start: now(), barLen: 30}
}

// newProgress shows progress on the command's stderr.
func (c *cli) newProgress(mode progressMode, total int) *progress {
	return newProgress(c.stderr, mode, total, c.tty, time.Now)
}

// rates returns the items per second so far and, with a total, the time
// left at that rate (-1 when there is nothing to go on yet).
func (p *progress) rates(done int) (perSecond float64, left time.Duration) {
	elapsed := p.now().Sub(p.start)
	perSecond = float64(done) / max(elapsed.Seconds(), 1e-3)
	left = -1
	if p.total >= 0 && done > 0 {
		left = time.Duration(float64(elapsed) * float64(max(p.total-done, 0)) / float64(done))
	}
	return perSecond, left
}

// speed says the rate and the time left, for both modes.
func (p *progress) speed(done int) string {
	perSecond, left := p.rates(done)
	s := fmt.Sprintf("%.0f/s", perSecond)
	if left >= 0 {
		s += ", " + left.Round(time.Second).String() + " left"
	}
	return s
}

func (p *progress) update(done int) {
	switch p.mode {
	case "bar":
		now := p.now()
		if now.Sub(p.last) < 100*time.Millisecond && (p.total < 0 || done < p.total) {
			return
		}
		p.last = now
		p.drawn = true
		if p.total < 0 { // a pipe or a sweep: no total
			fmt.Fprintf(p.w, "\r%d  %s\033[K", done, p.speed(done))
			return
		}
		filled := 0
		if p.total > 0 {
			filled = min(done*p.barLen/p.total, p.barLen)
		}
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d  %s\033[K", strings.Repeat("#", filled), strings.Repeat(".", p.barLen-filled), done, p.total, p.speed(done))
	case "lines":
		if p.total < 0 {
			if step := done / 10000; step > p.step {
				p.step = step
				fmt.Fprintf(p.w, "progress: %d, %s\n", done, p.speed(done))
			}
			return
		}
		if p.total == 0 {
			return
		}
		if tenth := min(done*10/p.total, 10); tenth > p.step {
			p.step = tenth
			fmt.Fprintf(p.w, "progress: %d/%d (%d%%), %s\n", done, p.total, tenth*10, p.speed(done))
		}
	}
}

// clear takes the bar off the line, before a message.
func (p *progress) clear() {
	if p.mode == "bar" && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.last = time.Time{} // redraw at the next update
	}
}

func (p *progress) finish(done int) {
	if p.mode == "bar" {
		p.last = time.Time{}
		p.update(done)
		fmt.Fprintln(p.w)
	}
}
