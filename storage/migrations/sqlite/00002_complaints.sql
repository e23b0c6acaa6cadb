-- +goose Up
CREATE TABLE complaints (
    id                 INTEGER PRIMARY KEY,
    tracking_code      TEXT NOT NULL UNIQUE,
    status             TEXT NOT NULL,
    source             TEXT NOT NULL,
    category           TEXT NOT NULL,
    agency_id          BIGINT REFERENCES agencies(id),
    agency_text        TEXT NOT NULL DEFAULT '',
    handler_id         BIGINT REFERENCES people(id),
    description        TEXT NOT NULL,
    occurred_at        TIMESTAMP,
    location           TEXT NOT NULL DEFAULT '',
    latitude           REAL,
    longitude          REAL,
    reporter_name      TEXT NOT NULL DEFAULT '',
    reporter_phone     TEXT NOT NULL DEFAULT '',
    reporter_chat_id   BIGINT,
    reporter_locale    TEXT NOT NULL DEFAULT 'zh-CN',
    anonymous          INTEGER NOT NULL DEFAULT 0,
    outlet             TEXT NOT NULL DEFAULT '',
    link               TEXT NOT NULL DEFAULT '',
    headline           TEXT NOT NULL DEFAULT '',
    assigned_at        TIMESTAMP,
    due_at             TIMESTAMP,
    closed_at          TIMESTAMP,
    merged_into        BIGINT REFERENCES complaints(id),
    rating             INTEGER,
    slack_channel      TEXT NOT NULL DEFAULT '',
    slack_ts           TEXT NOT NULL DEFAULT '',
    contact_erased_at  TIMESTAMP,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX complaints_status ON complaints (status, due_at);
CREATE INDEX complaints_agency ON complaints (agency_id);
CREATE INDEX complaints_merged ON complaints (merged_into);

CREATE TABLE complaint_events (
    id            INTEGER PRIMARY KEY,
    complaint_id  BIGINT NOT NULL REFERENCES complaints(id),
    action        TEXT NOT NULL,
    actor         TEXT NOT NULL,
    at            TIMESTAMP NOT NULL,
    text          TEXT NOT NULL DEFAULT '',
    public        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, id);

CREATE TABLE complaint_attachments (
    id            INTEGER PRIMARY KEY,
    complaint_id  BIGINT NOT NULL REFERENCES complaints(id),
    file_id       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    size          BIGINT NOT NULL DEFAULT 0,
    mime          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX complaint_attachments_complaint ON complaint_attachments (complaint_id);

CREATE TABLE idempotency_keys (
    key           TEXT PRIMARY KEY,
    complaint_id  BIGINT NOT NULL REFERENCES complaints(id),
    created_at    TIMESTAMP NOT NULL
);

-- sla_marks records each urge, escalation and follow-up once per working
-- day, so several replicas' periodic checks never double them.
CREATE TABLE sla_marks (
    complaint_id  BIGINT NOT NULL REFERENCES complaints(id),
    kind          TEXT NOT NULL,
    day           TEXT NOT NULL,
    at            TIMESTAMP NOT NULL,
    PRIMARY KEY (complaint_id, kind, day)
);

CREATE TABLE callback_tasks (
    id            INTEGER PRIMARY KEY,
    complaint_id  BIGINT NOT NULL REFERENCES complaints(id),
    reason        TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'open',
    created_at    TIMESTAMP NOT NULL,
    done_at       TIMESTAMP,
    done_by       TEXT NOT NULL DEFAULT '',
    UNIQUE (complaint_id, reason)
);

CREATE TABLE status_lookups (
    id       INTEGER PRIMARY KEY,
    chat_id  BIGINT NOT NULL,
    at       TIMESTAMP NOT NULL
);
CREATE INDEX status_lookups_chat ON status_lookups (chat_id, at);

-- A delivery to a reporter (who is not a person in duban) names the
-- complaint whose reporter it goes to instead of a person.
ALTER TABLE deliveries ADD COLUMN complaint_id BIGINT REFERENCES complaints(id);

-- +goose Down
ALTER TABLE deliveries DROP COLUMN complaint_id;
DROP TABLE status_lookups;
DROP TABLE callback_tasks;
DROP TABLE sla_marks;
DROP TABLE idempotency_keys;
DROP TABLE complaint_attachments;
DROP TABLE complaint_events;
DROP TABLE complaints;
