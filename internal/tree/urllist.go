package tree

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// ReplaceBase swaps the base of every line of a URL list; a line on another base is an
// error, not something to guess about.
func ReplaceBase(list []byte, from, to string) ([]byte, error) {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(list))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, from)
		if !ok {
			return nil, fmt.Errorf("line %q is not under %s", line, from)
		}
		out.WriteString(to + rest + "\n")
	}
	return out.Bytes(), sc.Err()
}
