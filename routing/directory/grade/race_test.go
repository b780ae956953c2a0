//go:build race

package grade

const raceEnabled = true
