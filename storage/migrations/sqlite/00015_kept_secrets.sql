-- +goose Up
-- Keys duban makes for itself when the operator gives none (the key of the
-- answer links in e-mails, when DUBAN_LINK_SECRET is empty): made once by
-- the first replica that needs one, then the same for every replica and
-- every restart, so a link mailed yesterday still opens.
CREATE TABLE kept_secrets (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- +goose Down
DROP TABLE kept_secrets;
