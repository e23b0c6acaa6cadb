-- +goose Up
-- The agency a reporter names is a claim, kept apart from the agency the
-- office assigns (docs/ACCESS.md): reported_agency_id
-- is the first, agency_id the second, null until an assignment.
ALTER TABLE complaints ADD COLUMN reported_agency_id BIGINT REFERENCES agencies(id);
UPDATE complaints SET reported_agency_id = agency_id;
UPDATE complaints SET agency_id = NULL WHERE assigned_at IS NULL;
CREATE INDEX complaints_reported_agency ON complaints (reported_agency_id);

-- An assign event names the agency it gave the complaint to, and a note
-- the agency whose person wrote it: an agency reads what was ever assigned
-- to it, and its own notes.
ALTER TABLE complaint_events ADD COLUMN agency_id BIGINT REFERENCES agencies(id);
UPDATE complaint_events SET agency_id = (SELECT c.agency_id FROM complaints c WHERE c.id = complaint_events.complaint_id)
    WHERE action = 'assign';
CREATE INDEX complaint_events_agency ON complaint_events (agency_id, complaint_id);

-- +goose Down
DROP INDEX complaint_events_agency;
ALTER TABLE complaint_events DROP COLUMN agency_id;
DROP INDEX complaints_reported_agency;
UPDATE complaints SET agency_id = reported_agency_id WHERE agency_id IS NULL;
ALTER TABLE complaints DROP COLUMN reported_agency_id;
