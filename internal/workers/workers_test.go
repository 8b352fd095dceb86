package workers

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestEachRunsEveryJobWithinTheLimit(t *testing.T) {
	var running, peak, done atomic.Int64
	seen := make([]atomic.Bool, 500)
	err := Each(context.Background(), 3, len(seen), func(i int) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if seen[i].Swap(true) {
			t.Errorf("job %d ran twice", i)
		}
		done.Add(1)
		running.Add(-1)
		return nil
	})
	if err != nil || done.Load() != int64(len(seen)) {
		t.Fatalf("Each: %v, %d of %d jobs ran", err, done.Load(), len(seen))
	}
	if peak.Load() > 3 {
		t.Errorf("%d jobs ran at once, limit 3", peak.Load())
	}
}

func TestEachStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	var started atomic.Int64
	err := Each(context.Background(), 1, 100, func(i int) error {
		started.Add(1)
		if i == 5 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Each = %v, want the job's error", err)
	}
	// One worker: job 5 fails before any later job starts, except the
	// one already handed out while it ran.
	if n := started.Load(); n > 7 {
		t.Errorf("%d jobs started after the failure at job 5", n)
	}
}

func TestEachReportsACancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var started atomic.Int64
	err := Each(ctx, 1, 100, func(i int) error {
		if started.Add(1) == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || started.Load() > 4 {
		t.Errorf("Each = %v after %d jobs, want context.Canceled soon after the third", err, started.Load())
	}
}
