-- +goose Up
-- The web queue lists complaints by time limit (due_at, nulls last, then
-- id), filtered by agency, reported agency, handler or status: each of
-- these indexes serves a filter in that order, so a page reads its 51
-- rows and stops (docs/PERFORMANCE.md). Category and source, of a few
-- values each, are served by the plain order.
CREATE INDEX complaints_due ON complaints (due_at, id);
CREATE INDEX complaints_agency_due ON complaints (agency_id, due_at, id);
CREATE INDEX complaints_reported_due ON complaints (reported_agency_id, due_at, id);
CREATE INDEX complaints_handler_due ON complaints (handler_id, due_at, id);
CREATE INDEX complaints_status_due_id ON complaints (status, due_at, id);

-- +goose Down
DROP INDEX complaints_status_due_id;
DROP INDEX complaints_handler_due;
DROP INDEX complaints_reported_due;
DROP INDEX complaints_agency_due;
DROP INDEX complaints_due;
