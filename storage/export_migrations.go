package storage

import "io/fs"

// Migrations are the embedded migrations, by dialect under
// migrations/postgres and migrations/sqlite, for tests that run them
// part of the way.
var Migrations fs.FS = migrations
