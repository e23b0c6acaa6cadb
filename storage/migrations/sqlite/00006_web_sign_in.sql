-- +goose Up
-- The web side's sign-in: a person's login (shown as typed, unique
-- regardless of case through login_key, its lower case; kept when the
-- person is deactivated) and the argon2id hash of their password; and the
-- web sessions, by the SHA-256 of their token (scs's HashTokenInStore).
ALTER TABLE people ADD COLUMN login TEXT;
ALTER TABLE people ADD COLUMN login_key TEXT;
ALTER TABLE people ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX people_login_key ON people (login_key) WHERE login_key IS NOT NULL;

CREATE TABLE web_sessions (
    token   TEXT PRIMARY KEY,
    data    BLOB NOT NULL,
    expiry  TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expiry);

-- +goose Down
DROP TABLE web_sessions;
DROP INDEX people_login_key;
ALTER TABLE people DROP COLUMN password_hash;
ALTER TABLE people DROP COLUMN login_key;
ALTER TABLE people DROP COLUMN login;
