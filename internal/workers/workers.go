// Package workers is the one worker pool: n jobs run on a bounded number
// of goroutines.
package workers

import (
	"context"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// Each calls fn(i) for every i in [0, n) on at most jobs goroutines,
// which take the next index as they come free (no goroutine per job: jobs
// may be as small as one stat). After the first error, or once ctx ends,
// no new call starts (calls under way finish: an upload half done is not
// cut); Each returns that first error, else ctx's error.
func Each(ctx context.Context, jobs, n int, fn func(i int) error) error {
	var (
		g      errgroup.Group
		next   atomic.Int64
		failed atomic.Bool
	)
	for range max(1, min(jobs, n)) {
		g.Go(func() error {
			for !failed.Load() && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return nil
				}
				if err := fn(i); err != nil {
					failed.Store(true)
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}
