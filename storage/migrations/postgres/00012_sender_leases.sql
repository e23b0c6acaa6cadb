-- +goose Up
-- The crash policy (README.md, Reliability): a delivery marked sending
-- names the process that sends it, and each sending process holds a lease
-- it renews every few seconds. A sending row whose sender's lease has
-- lapsed was in flight at a crash: it is sent once more, marked as a
-- possible repeat. A live replica's rows are left alone.
ALTER TABLE deliveries ADD COLUMN sender TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN possible_repeat BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE sender_leases (
    id          TEXT PRIMARY KEY,
    expires_at  TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE sender_leases;
ALTER TABLE deliveries DROP COLUMN possible_repeat;
ALTER TABLE deliveries DROP COLUMN sender;
