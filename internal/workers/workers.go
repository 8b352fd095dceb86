// Package workers is the one worker pool: n jobs run on a bounded number
// of goroutines.
package workers

import (
	"context"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// Each calls fn(i) for every i in [0, n), at most jobs at a time. After
// the first error, or once ctx ends, no new call starts (calls under way
// finish: an upload half done is not cut); Each returns that first error,
// else ctx's error.
func Each(ctx context.Context, jobs, n int, fn func(i int) error) error {
	var g errgroup.Group
	g.SetLimit(max(jobs, 1))
	var failed atomic.Bool
	for i := range n {
		if failed.Load() || ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			err := fn(i)
			if err != nil {
				failed.Store(true)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}
