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

// writeFile writes data to a new temp file and renames it to rel, with
// plain system calls: an os.File would register each of tens of thousands
// of small files with the poller (fcntl, epoll_ctl) for nothing, and
// os.Rename stats the target first. It returns the new file's stamp.
func (t *outTree) writeFile(rel string, data []byte) (stamp, error) {
	full := t.path(rel)
	if err := t.mkdirs(filepath.Dir(full)); err != nil {
		return stamp{}, err
	}
	tmp := t.tempName()
	fd, err := syscall.Open(tmp, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return stamp{}, &os.PathError{Op: "create", Path: tmp, Err: err}
	}
	st, err := fill(fd, data, t.fixMode)
	if cerr := syscall.Close(fd); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		err = rename(tmp, full)
	}
	if err != nil {
		syscall.Unlink(tmp)
		return stamp{}, err
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
