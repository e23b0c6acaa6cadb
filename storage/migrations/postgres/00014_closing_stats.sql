-- +goose Up
-- What the reports say of a closed complaint, stored when it closes so that
-- a report never recounts the calendar: the working days from its
-- (latest) assignment to closing, and whether it closed within the time
-- limit in force then (extensions included). Reopening clears both.
ALTER TABLE complaints ADD COLUMN close_working_days INTEGER;
ALTER TABLE complaints ADD COLUMN closed_on_time BOOLEAN;
-- The reports read the days at the edges of their range from the
-- complaints themselves.
CREATE INDEX complaints_created ON complaints (created_at) INCLUDE (status, source, category, agency_id);
CREATE INDEX complaints_closed ON complaints (closed_at) INCLUDE (agency_id, status, closed_on_time, close_working_days, rating);

-- The reports' whole months, kept up to date in the transaction of every
-- change of a complaint (storage/complaint_stats.go), so that a year's
-- report reads a few thousand rows, not a million: complaints received
-- in a local month per assigned agency (0: none), counted once by each of
-- their category, source and status as they stand now (dim names which);
-- and per agency the complaints closed in a local month with their
-- ratings.
CREATE TABLE complaint_counts (
    month      TEXT NOT NULL,
    agency_id  BIGINT NOT NULL,
    dim        TEXT NOT NULL,
    value      TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (month, agency_id, dim, value)
);
CREATE TABLE closing_counts (
    month       TEXT NOT NULL,
    agency_id   BIGINT NOT NULL,
    closed      INTEGER NOT NULL,
    on_time     INTEGER NOT NULL,
    timed       INTEGER NOT NULL,
    days        INTEGER NOT NULL,
    rated       INTEGER NOT NULL,
    rating_sum  INTEGER NOT NULL,
    r1 INTEGER NOT NULL, r2 INTEGER NOT NULL, r3 INTEGER NOT NULL, r4 INTEGER NOT NULL, r5 INTEGER NOT NULL,
    PRIMARY KEY (month, agency_id)
);
-- The time zone the months were counted in; rebuilt when it changes or is
-- missing (as after this migration, for the complaints already there).
CREATE TABLE stats_meta (
    zone  TEXT NOT NULL
);

-- +goose Down
DROP TABLE stats_meta;
DROP TABLE closing_counts;
DROP TABLE complaint_counts;
DROP INDEX complaints_closed;
DROP INDEX complaints_created;
ALTER TABLE complaints DROP COLUMN closed_on_time;
ALTER TABLE complaints DROP COLUMN close_working_days;
