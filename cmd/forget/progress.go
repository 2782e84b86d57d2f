package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
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
	// width is the terminal's width in columns (0: unknown), read at
	// each redraw: a line longer than the terminal wraps, and \r then
	// redraws only its last part.
	width func() int
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
	return &progress{w: w, mode: mode, total: total, now: now, start: now(), barLen: 30, width: func() int { return 0 }}
}

// newProgress shows progress on the command's stderr.
func (c *cli) newProgress(mode progressMode, total int) *progress {
	p := newProgress(c.stderr, mode, total, c.tty, time.Now)
	if f, ok := c.stderr.(*os.File); ok && c.tty {
		p.width = func() int { return terminalWidth(f) }
	}
	return p
}

// fit returns the bar's line for a terminal width columns wide: the bar
// shrinks first (to 10), then goes, then the text is cut, so that the
// line never wraps. width 0 (unknown) keeps the 30-column bar.
func fit(width, filled, barLen int, text string) string {
	bar := func(n int) string {
		f := filled * n / max(barLen, 1)
		return "[" + strings.Repeat("#", f) + strings.Repeat(".", n-f) + "] "
	}
	if width <= 0 {
		return bar(barLen) + text
	}
	room := width - 1 // the last column would wrap on some terminals
	if n := min(room-len(text)-3, barLen*2); n >= 10 {
		return bar(n) + text
	}
	if len(text) > room {
		return text[:max(room, 0)]
	}
	return text
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
			text := fmt.Sprintf("%d  %s", done, p.speed(done))
			if w := p.width(); w > 0 && len(text) > w-1 {
				text = text[:max(w-1, 0)]
			}
			fmt.Fprintf(p.w, "\r%s\033[K", text)
			return
		}
		filled := 0
		if p.total > 0 {
			filled = min(done*p.barLen/p.total, p.barLen)
		}
		line := fit(p.width(), filled, p.barLen, fmt.Sprintf("%d/%d  %s", done, p.total, p.speed(done)))
		fmt.Fprintf(p.w, "\r%s\033[K", line)
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

// columnsFromEnv is $COLUMNS, which shells set, when the terminal cannot
// be asked.
func columnsFromEnv() int {
	n, err := strconv.Atoi(os.Getenv("COLUMNS"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
