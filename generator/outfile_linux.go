package generator

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// writeFile writes data to rel and returns the new file's stamp. In a
// folder that was there before this build, a reader may hold a link to
// rel, so the file goes to a temp file and is renamed into place. In a
// folder this build made, no page from before links in: the file is
// created in place, which spares a rename and a turn at the lock of the
// temp folder that every writer shares (about a fifth of a fresh
// build's time). Plain system calls: an os.File would register each of tens
// of thousands of small files with the poller (fcntl, epoll_ctl) for
// nothing, and os.Rename stats the target first.
func (t *outTree) writeFile(rel string, data []byte) (stamp, error) {
	full := t.path(rel)
	made, err := t.mkdirs(filepath.Dir(full))
	if err != nil {
		return stamp{}, err
	}
	if made {
		st, err := createFile(full, data, t.fixMode)
		if err != syscall.EEXIST { // written twice in one build: replace it below
			return st, err
		}
	}
	tmp := t.tempName()
	st, err := createFile(tmp, data, t.fixMode)
	if err != nil {
		return stamp{}, err
	}
	if err := rename(tmp, full); err != nil {
		syscall.Unlink(tmp)
		return stamp{}, err
	}
	return st, nil
}

// createFile writes data to a new file at path, never through a link and
// never over a file that is there (that error is syscall.EEXIST itself).
// On any other failure it removes what it wrote.
func createFile(path string, data []byte, fixMode bool) (stamp, error) {
	fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o644)
	if err == syscall.EEXIST {
		return stamp{}, err
	}
	if err != nil {
		return stamp{}, &os.PathError{Op: "create", Path: path, Err: err}
	}
	st, err := fill(fd, data, fixMode)
	if cerr := syscall.Close(fd); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		syscall.Unlink(path)
		return stamp{}, &os.PathError{Op: "write", Path: path, Err: err}
	}
	return st, nil
}

// fill writes data to the open file fd, makes it 0644 when the umask did
// not, and returns its stamp.
func fill(fd int, data []byte, fixMode bool) (stamp, error) {
	for len(data) > 0 {
		n, err := syscall.Write(fd, data)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return stamp{}, err
		}
		data = data[n:]
	}
	if fixMode {
		if err := syscall.Fchmod(fd, 0o644); err != nil {
			return stamp{}, err
		}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return stamp{}, err
	}
	return stamp{Size: st.Size, ModTime: st.Mtim.Nano(), Inode: st.Ino}, nil
}

// rename is one rename system call (os.Rename first stats the target).
func rename(from, to string) error {
	if err := syscall.Rename(from, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

func stampOf(fi fs.FileInfo) stamp {
	s := stamp{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.Inode = st.Ino
	}
	return s
}

// umaskStrips reports whether the process umask clears any bit of perm
// (or cannot be read), read from /proc: asking with umask(2) would change
// it for every thread for a moment.
func umaskStrips(perm os.FileMode) bool {
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
