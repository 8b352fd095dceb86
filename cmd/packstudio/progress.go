package main

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/packstudio/packstudio/internal/bytesize"
	"github.com/packstudio/packstudio/internal/tree"
)

// progressBar draws one updating line on a terminal: objects, bytes and
// rate. Off a terminal it prints nothing but a line per phase change.
type progressBar struct {
	e     *env
	mu    sync.Mutex
	start time.Time
	last  time.Time
	phase string
	drawn bool
}

func newProgressBar(e *env) *progressBar { return &progressBar{e: e, start: time.Now()} }

func (p *progressBar) update(pr tree.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.e.tty {
		if pr.Phase != p.phase {
			p.phase = pr.Phase
			fmt.Fprintf(p.e.stdout, "%s: %d/%d objects done\n", pr.Phase, pr.Done, pr.Total)
		}
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && pr.Done != pr.Total {
		return
	}
	p.last = now
	const width = 24
	filled := 0
	if pr.Total > 0 {
		filled = width * pr.Done / pr.Total
	}
	rate := float64(pr.Bytes) / max(now.Sub(p.start).Seconds(), 0.001)
	fmt.Fprintf(p.e.stdout, "\r[%s%s] %d/%d objects, %s/%s, %s/s %-16s", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		pr.Done, pr.Total, bytesize.Format(pr.Bytes), bytesize.Format(pr.TotalBytes), bytesize.Format(int64(rate)), pr.Phase)
	p.drawn = true
}

func (p *progressBar) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.e.stdout)
	}
}
