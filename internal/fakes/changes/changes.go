// Package changes lets a fake API's callers wait until its state changes:
// what both the Telegram and the Slack fakes need to answer "wait until n
// messages were sent" without polling.
package changes

import (
	"sync"
	"time"
)

// Signal is closed and replaced whenever the state it guards changes. Its
// methods are called with the fake's lock held, except Wait, which takes
// it. The zero Signal is ready to use.
type Signal struct{ ch chan struct{} }

// C is the channel closed at the next change; under the lock.
func (s *Signal) C() <-chan struct{} {
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Notify wakes everyone waiting; under the lock.
func (s *Signal) Notify() {
	if s.ch != nil {
		close(s.ch)
	}
	s.ch = make(chan struct{})
}

// Wait reports whether cond, checked under mu, held before timeout,
// checking again at each change.
func (s *Signal) Wait(mu sync.Locker, timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		mu.Lock()
		ok, ch := cond(), s.C()
		mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}
