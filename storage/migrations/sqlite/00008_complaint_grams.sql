-- +goose Up
-- Text search of complaints in Chinese: every pair of adjacent characters
-- (a bigram) of a complaint's description and tracking code, ASCII
-- letters in lower case, points at the complaint. A search intersects the
-- complaints of its query's bigrams and checks the survivors with LIKE
-- (storage/complaint_search.go); a plain LIKE would read every row, and
-- trigram indexes split text at spaces, which Chinese does not have.
CREATE TABLE complaint_grams (
    gram          TEXT NOT NULL,
    complaint_id  BIGINT NOT NULL REFERENCES complaints(id),
    PRIMARY KEY (gram, complaint_id)
) WITHOUT ROWID;
CREATE INDEX complaint_grams_complaint ON complaint_grams (complaint_id);

-- The complaints already there (SQLite's lower() is ASCII-only, as the
-- grams are).
WITH RECURSIVE g(id, s, i) AS (
    SELECT id, lower(description || char(10) || tracking_code), 1 FROM complaints
    UNION ALL
    SELECT id, s, i + 1 FROM g WHERE i < length(s) - 1
)
INSERT OR IGNORE INTO complaint_grams (gram, complaint_id)
SELECT substr(s, i, 2), id FROM g WHERE length(s) >= 2;

-- +goose Down
DROP TABLE complaint_grams;
