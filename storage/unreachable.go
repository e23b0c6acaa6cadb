package storage

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/lib/pq"
)

// Unreachable reports whether err means the database could not be reached
// (refused or dropped connections, a server shutting down or not yet
// accepting connections), rather than that a statement failed: callers
// answer "try again later" (HTTP 503) instead of "internal error".
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	var (
		op *net.OpError
		pe *pq.Error
	)
	switch {
	case errors.As(err, &op),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &pe):
		// Class 08 is "connection exception"; 57P01–57P03 are an admin
		// shutdown, a crash shutdown and "cannot connect now" (starting up).
		// https://www.postgresql.org/docs/current/errcodes-appendix.html
		return pe.Code.Class() == "08" || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return false
}
