//go:build !unix

package main

import "os"

// terminalWidth is $COLUMNS where the terminal cannot be asked.
func terminalWidth(*os.File) int { return columnsFromEnv() }
