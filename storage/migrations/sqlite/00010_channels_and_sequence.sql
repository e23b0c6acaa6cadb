-- +goose Up
-- A person's own order of channels to try (comma-separated; empty: the
-- global order), and a hearing's count of changes, its iCalendar SEQUENCE.
ALTER TABLE people ADD COLUMN channels TEXT NOT NULL DEFAULT '';
ALTER TABLE hearings ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE hearings DROP COLUMN sequence;
ALTER TABLE people DROP COLUMN channels;
