package storage

// SetMaxCandidates lowers the bigram search's candidate cap for a test,
// and returns the function that restores it.
func SetMaxCandidates(n int) (restore func()) {
	old := maxCandidates
	maxCandidates = n
	return func() { maxCandidates = old }
}

// Migrations are the embedded migrations, by dialect under
// migrations/postgres and migrations/sqlite, for tests that run them part
// of the way.
var Migrations = migrations
