package pack

import (
	"io/fs"
	"strconv"
	"syscall"
)

// identity is what git's index also keeps of a file besides its size,
// mode and mtime: device, inode and change time. The change time moves on
// every write, even one that puts the size and mtime back (cp -p, tar x,
// touch -r), and cannot be set by a user.
func identity(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return strconv.FormatUint(st.Dev, 10) + ":" + strconv.FormatUint(st.Ino, 10) + ":" +
		strconv.FormatInt(st.Ctim.Sec, 10) + "." + strconv.FormatInt(st.Ctim.Nsec, 10)
}

// ChangeTime is the change time of the file, in nanoseconds since the
// epoch: what every write moves forward.
func ChangeTime(fi fs.FileInfo) int64 {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fi.ModTime().UnixNano()
	}
	return st.Ctim.Nano()
}
