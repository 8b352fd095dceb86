package atomicfile

import (
	"bufio"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Plain system calls: an os.File would register each of tens of thousands
// of small files with the poller (fcntl, epoll_ctl) for nothing, and
// os.Rename stats the target first.

// createNew writes data to a new file at path, never through a link and
// never over a file that is there (that error is syscall.EEXIST itself,
// which errors.Is matches to fs.ErrExist). On any other failure it
// removes what it wrote.
func createNew(path string, data []byte, fixMode bool) (Stamp, error) {
	fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o644)
	if err == syscall.EEXIST {
		return Stamp{}, err
	}
	if err != nil {
		return Stamp{}, &os.PathError{Op: "create", Path: path, Err: err}
	}
	st, err := fill(fd, data, fixMode)
	if cerr := syscall.Close(fd); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		syscall.Unlink(path)
		return Stamp{}, &os.PathError{Op: "write", Path: path, Err: err}
	}
	return st, nil
}

// fill writes data to the open file fd, makes it 0644 when the umask did
// not, and returns its stamp.
func fill(fd int, data []byte, fixMode bool) (Stamp, error) {
	for len(data) > 0 {
		n, err := syscall.Write(fd, data)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return Stamp{}, err
		}
		data = data[n:]
	}
	if fixMode {
		if err := syscall.Fchmod(fd, 0o644); err != nil {
			return Stamp{}, err
		}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return Stamp{}, err
	}
	return Stamp{Size: st.Size, ModTime: st.Mtim.Nano(), Inode: st.Ino}, nil
}

// Rename is one rename system call.
func Rename(from, to string) error {
	if err := syscall.Rename(from, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// StampOf is the stamp of a file already stat'ed.
func StampOf(fi fs.FileInfo) Stamp {
	s := Stamp{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.Inode = st.Ino
	}
	return s
}

// UmaskStrips reports whether the process umask clears any bit of perm
// (or cannot be read), read from /proc: asking with umask(2) would change
// it for every thread for a moment.
func UmaskStrips(perm os.FileMode) bool {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return true
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Umask:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			return err != nil || os.FileMode(mask)&perm != 0
		}
	}
	return true
}
