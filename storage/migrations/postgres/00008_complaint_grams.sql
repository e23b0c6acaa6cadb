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
);
CREATE INDEX complaint_grams_complaint ON complaint_grams (complaint_id);

-- The complaints already there.
INSERT INTO complaint_grams (gram, complaint_id)
SELECT DISTINCT substr(s, i, 2), id
FROM (SELECT id, translate(description || E'\n' || tracking_code, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS s
      FROM complaints) c
CROSS JOIN LATERAL generate_series(1, char_length(s) - 1) AS i
ON CONFLICT DO NOTHING;

-- +goose Down
DROP TABLE complaint_grams;
