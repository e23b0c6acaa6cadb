-- +goose Up
-- Private calendar feeds: one a person or an agency at most, found by the
-- SHA-256 of the token in its URL (the token itself is never kept).
-- Minting again replaces the row, so the old URL stops working.
CREATE TABLE calendar_feeds (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER REFERENCES people(id),
    agency_id   INTEGER REFERENCES agencies(id),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL,
    CHECK ((person_id IS NULL) <> (agency_id IS NULL))
);
CREATE UNIQUE INDEX calendar_feeds_person ON calendar_feeds (person_id) WHERE person_id IS NOT NULL;
CREATE UNIQUE INDEX calendar_feeds_agency ON calendar_feeds (agency_id) WHERE agency_id IS NOT NULL;

-- +goose Down
DROP TABLE calendar_feeds;
