-- +goose Up
-- A report filed through the Telegram bot, counted against its chat for a
-- day (DUBAN_REPORTS_PER_CHAT). The chat is kept only as a keyed hash
-- (bot/report_limit.go), never in clear; rows older than a day are
-- deleted by the periodic maintenance.
CREATE TABLE report_limits (
    id        BIGSERIAL PRIMARY KEY,
    chat_hash TEXT NOT NULL,
    filed_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX report_limits_chat ON report_limits (chat_hash, filed_at);
CREATE INDEX report_limits_filed ON report_limits (filed_at);

-- +goose Down
DROP TABLE report_limits;
