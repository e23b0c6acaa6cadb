-- +goose Up
-- What the reports say of a closed complaint, stored when it closes so that
-- a report never recounts the calendar: the working days from its
-- (latest) assignment to closing, and whether it closed within the time
-- limit in force then (extensions included). Reopening clears both.
ALTER TABLE complaints ADD COLUMN close_working_days INTEGER;
ALTER TABLE complaints ADD COLUMN closed_on_time INTEGER;
-- The reports read complaints by when they came in and when they closed.
CREATE INDEX complaints_created ON complaints (created_at, status, source, category, agency_id);
CREATE INDEX complaints_closed ON complaints (closed_at, agency_id);

-- +goose Down
DROP INDEX complaints_closed;
DROP INDEX complaints_created;
ALTER TABLE complaints DROP COLUMN closed_on_time;
ALTER TABLE complaints DROP COLUMN close_working_days;
