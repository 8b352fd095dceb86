package publish_test

import (
	"errors"
	"strconv"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
