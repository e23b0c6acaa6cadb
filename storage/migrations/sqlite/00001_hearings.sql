-- +goose Up
CREATE TABLE agencies (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    parent_id   BIGINT REFERENCES agencies(id),
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE people (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL,
    agency_id         BIGINT REFERENCES agencies(id),
    roles             TEXT NOT NULL,
    telegram_chat_id  BIGINT,
    telegram_user_id  BIGINT,
    slack_user_id     TEXT NOT NULL DEFAULT '',
    email             TEXT NOT NULL DEFAULT '',
    phone             TEXT NOT NULL DEFAULT '',
    locale            TEXT NOT NULL DEFAULT 'zh-CN',
    active            INTEGER NOT NULL DEFAULT 1,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX people_telegram_user ON people (telegram_user_id) WHERE telegram_user_id IS NOT NULL;
CREATE UNIQUE INDEX people_slack_user ON people (slack_user_id) WHERE slack_user_id <> '';
CREATE INDEX people_agency ON people (agency_id);

CREATE TABLE bind_codes (
    code        TEXT PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES people(id),
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);

CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES people(id),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE hearings (
    id           INTEGER PRIMARY KEY,
    case_number  TEXT NOT NULL,
    court        TEXT NOT NULL,
    courtroom    TEXT NOT NULL DEFAULT '',
    starts_at    TIMESTAMP NOT NULL,
    plaintiff    TEXT NOT NULL,
    cause        TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (case_number, starts_at)
);
CREATE INDEX hearings_starts ON hearings (starts_at);

CREATE TABLE hearing_agencies (
    id                  INTEGER PRIMARY KEY,
    hearing_id          BIGINT NOT NULL REFERENCES hearings(id),
    agency_id           BIGINT NOT NULL REFERENCES agencies(id),
    answer              TEXT NOT NULL DEFAULT 'none',
    delegate_name       TEXT NOT NULL DEFAULT '',
    delegate_reason     TEXT NOT NULL DEFAULT '',
    delegate_person_id  BIGINT REFERENCES people(id),
    answered_at         TIMESTAMP,
    answered_by         BIGINT REFERENCES people(id),
    outcome             TEXT,
    outcome_at          TIMESTAMP,
    outcome_by          BIGINT REFERENCES people(id),
    UNIQUE (hearing_id, agency_id)
);

CREATE TABLE reminders (
    id                 INTEGER PRIMARY KEY,
    hearing_agency_id  BIGINT NOT NULL REFERENCES hearing_agencies(id),
    hearing_id         BIGINT NOT NULL REFERENCES hearings(id),
    kind               TEXT NOT NULL,
    offset_seconds     BIGINT NOT NULL,
    due_at             TIMESTAMP NOT NULL,
    status             TEXT NOT NULL,
    sent_at            TIMESTAMP,
    created_at         TIMESTAMP NOT NULL
);
CREATE INDEX reminders_due ON reminders (status, due_at);
CREATE INDEX reminders_hearing ON reminders (hearing_id);

CREATE TABLE deliveries (
    id                   INTEGER PRIMARY KEY,
    dedupe_key           TEXT NOT NULL UNIQUE,
    person_id            BIGINT REFERENCES people(id),
    channel              TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    ref                  TEXT NOT NULL DEFAULT '',
    payload              TEXT NOT NULL,
    status               TEXT NOT NULL,
    attempts             INTEGER NOT NULL DEFAULT 0,
    resends              INTEGER NOT NULL DEFAULT 0,
    provider_message_id  TEXT NOT NULL DEFAULT '',
    error                TEXT NOT NULL DEFAULT '',
    reminder_id          BIGINT REFERENCES reminders(id),
    hearing_agency_id    BIGINT REFERENCES hearing_agencies(id),
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    sent_at              TIMESTAMP
);
CREATE INDEX deliveries_status ON deliveries (status, id);
CREATE INDEX deliveries_reminder ON deliveries (reminder_id);

CREATE TABLE processed_updates (
    source        TEXT NOT NULL,
    update_id     TEXT NOT NULL,
    processed_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (source, update_id)
);

CREATE TABLE chat_states (
    chat_key    TEXT PRIMARY KEY,
    person_id   BIGINT REFERENCES people(id),
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '',
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT '',
    at      TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE chat_states;
DROP TABLE processed_updates;
DROP TABLE deliveries;
DROP TABLE reminders;
DROP TABLE hearing_agencies;
DROP TABLE hearings;
DROP TABLE api_tokens;
DROP TABLE bind_codes;
DROP TABLE people;
DROP TABLE agencies;
