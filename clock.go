package duban

import (
	"sync"
	"time"
)

// Clock tells the time. Everything that decides by the time takes one, so
// tests can set it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// ManualClock is a clock a test moves by hand. The zero value is not usable;
// use NewManualClock.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// RunningClock runs at the wall clock's pace from a start a test chooses:
// end-to-end tests that wait for real tasks pick their calendar date with
// it and still see time pass.
type RunningClock struct {
	start time.Time
	wall  time.Time
}

// NewRunningClock returns a clock that reads start now and moves on with
// the wall clock.
func NewRunningClock(start time.Time) *RunningClock {
	return &RunningClock{start: start, wall: time.Now()}
}

// Now returns start plus the wall time since the clock was made.
func (c *RunningClock) Now() time.Time { return c.start.Add(time.Since(c.wall)) }

// WallTime says what the wall clock will read when c reads t. asynq
// schedules by the wall clock, so a task due at t on a test's clock must
// be scheduled at WallTime(c, t); on the wall clock it is t itself.
func WallTime(c Clock, t time.Time) time.Time {
	switch c.(type) {
	case nil, SystemClock, *SystemClock:
		return t
	}
	return time.Now().Add(t.Sub(c.Now()))
}
