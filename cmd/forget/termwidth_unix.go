//go:build unix

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// terminalWidth asks the terminal on f how wide it is, in columns; 0 when
// it cannot say. Asked at each redraw, so a resized window is followed.
func terminalWidth(f *os.File) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return columnsFromEnv()
	}
	return int(ws.Col)
}
