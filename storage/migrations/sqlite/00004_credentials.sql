-- +goose Up
-- Personal API tokens carry a name, an optional expiry and their last use;
-- a revoked token's row is deleted (the audit log keeps the revocation).
ALTER TABLE api_tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMP;
ALTER TABLE api_tokens ADD COLUMN last_used_at TIMESTAMP;
CREATE INDEX api_tokens_person ON api_tokens (person_id);

-- +goose Down
DROP INDEX api_tokens_person;
ALTER TABLE api_tokens DROP COLUMN last_used_at;
ALTER TABLE api_tokens DROP COLUMN expires_at;
ALTER TABLE api_tokens DROP COLUMN name;
