package pack

import (
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// FrameSize is how much input goes into each zstd frame. Frames are
// compressed independently, so a large artifact is compressed on every
// core, and the bytes depend only on the input: never on how many cores
// there are or which goroutine compressed which frame. Concatenated frames
// are one valid .zst stream.
const FrameSize = 4 << 20

// frameEncoder compresses whole frames; EncodeAll is safe for concurrent
// use and runs each call on the calling goroutine.
var frameEncoder = sync.OnceValue(func() *zstd.Encoder {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(runtime.NumCPU()), zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithZeroFrames(true), zstd.WithEncoderCRC(true))
	if err != nil {
		panic(err) // only invalid options fail
	}
	return e
})

// helpers counts the frames, of every artifact at once, given to a helper
// goroutine and not yet written out. The build already packs artifacts in
// parallel, one per core: a frame gets a helper only while fewer than
// GOMAXPROCS are taken, and is otherwise compressed by the goroutine that
// filled it. So many small artifacts never start one, a large one alone
// gets every core, and the frames held in memory stay bounded: GOMAXPROCS
// plus one per packing goroutine.
var helpers atomic.Int32

func takeHelper() bool {
	limit := int32(runtime.GOMAXPROCS(0))
	for {
		n := helpers.Load()
		if n >= limit {
			return false
		}
		if helpers.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Frame buffers start empty and grow with what is written: a small
// artifact costs its own size, a large one reuses grown buffers.
var (
	inBufs  = sync.Pool{New: func() any { return new([]byte) }}
	outBufs = sync.Pool{New: func() any { return new([]byte) }}
)

// frame is one slice of input on its way to being compressed.
type frame struct {
	in, out *[]byte
	helper  bool          // holds one of the helpers until written out
	done    chan struct{} // closed when out is ready
}

// frameWriter cuts its input into frames of FrameSize, compresses them in
// parallel and writes them to w in order.
type frameWriter struct {
	w       io.Writer
	cur     *[]byte
	pending []*frame // in input order
	frames  int
	err     error
}

func newFrameWriter(w io.Writer) *frameWriter { return &frameWriter{w: w} }

func (fw *frameWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && fw.err == nil {
		if fw.cur == nil {
			fw.cur = inBufs.Get().(*[]byte)
		}
		k := min(len(p), FrameSize-len(*fw.cur))
		*fw.cur = append(*fw.cur, p[:k]...)
		p = p[k:]
		if len(*fw.cur) == FrameSize {
			fw.submit(false)
		}
	}
	if fw.err != nil {
		return 0, fw.err
	}
	return n, nil
}

// submit hands the current input to a helper and writes out what is
// ready. With every helper taken, it first waits for this artifact's
// oldest frame in flight, which frees that frame's helper, and tries
// again: the goroutine that reads stays free to feed a helper the moment
// one is done, so that every core keeps compressing. With no frame of its
// own in flight (the helpers all work for other artifacts), or for the
// last frame (a small artifact, one frame, starts no goroutine), it
// compresses the frame here and then writes out every frame.
func (fw *frameWriter) submit(last bool) {
	f := &frame{in: fw.cur, out: outBufs.Get().(*[]byte), done: make(chan struct{})}
	fw.cur = nil
	fw.frames++
	fw.pending = append(fw.pending, f)
	for !last {
		if takeHelper() {
			f.helper = true
			go f.compress()
			fw.flush(false)
			return
		}
		if fw.pending[0] == f {
			break
		}
		fw.flush(true)
	}
	f.compress()
	for len(fw.pending) > 0 {
		fw.flush(true)
	}
}

func (f *frame) compress() {
	*f.out = frameEncoder().EncodeAll(*f.in, (*f.out)[:0])
	*f.in = (*f.in)[:0]
	inBufs.Put(f.in)
	close(f.done)
}

// flush writes the finished frames at the head of the queue; with wait it
// first waits for the oldest one.
func (fw *frameWriter) flush(wait bool) {
	for len(fw.pending) > 0 {
		f := fw.pending[0]
		if wait {
			<-f.done
			wait = false
		} else {
			select {
			case <-f.done:
			default:
				return
			}
		}
		fw.pending = fw.pending[1:]
		if fw.err == nil {
			_, fw.err = fw.w.Write(*f.out)
		}
		outBufs.Put(f.out)
		if f.helper {
			helpers.Add(-1)
		}
	}
}

// Close compresses the rest of the input (an empty input still makes one
// empty frame) and writes every frame still pending.
func (fw *frameWriter) Close() error {
	if fw.err == nil && (fw.cur != nil || fw.frames == 0) {
		if fw.cur == nil {
			fw.cur = inBufs.Get().(*[]byte)
		}
		fw.submit(true)
	}
	fw.abort()
	return fw.err
}

// abort waits for every frame in flight and returns buffers; after an
// error the frames are dropped, not written.
func (fw *frameWriter) abort() {
	for len(fw.pending) > 0 {
		fw.flush(true)
	}
	if fw.cur != nil {
		*fw.cur = (*fw.cur)[:0]
		inBufs.Put(fw.cur)
		fw.cur = nil
	}
}
