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

// SetScopeSorted lowers the count past which an agency's complaints are
// read in the list's order, for a test; it returns the restore.
func SetScopeSorted(n int) (restore func()) {
	old := scopeSorted
	scopeSorted = n
	return func() { scopeSorted = old }
}

// SetBatchIDs lowers the ids an IN list carries, for a test; it returns
// the restore.
func SetBatchIDs(n int) (restore func()) {
	old := batchIDs
	batchIDs = n
	return func() { batchIDs = old }
}
