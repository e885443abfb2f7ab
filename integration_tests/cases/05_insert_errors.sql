DROP TABLE IF EXISTS `ie`;

CREATE TABLE `ie` (k string TAG, n tinyint, u uint8, d double NOT NULL, t timestamp NOT NULL);

INSERT INTO `ie` (k, d) VALUES ('a', 1);

INSERT INTO `ie` (k, d, t) VALUES ('a', NULL, 1);

INSERT INTO `ie` (k, t) VALUES ('a', 1);

INSERT INTO `ie` (nope, d, t) VALUES (1, 1, 1);

INSERT INTO `ie` (d, d, t) VALUES (1, 1, 1);

INSERT INTO `ie` (tsid, d, t) VALUES (1, 1, 1);

INSERT INTO `ie` (n, d, t) VALUES (300, 1, 1);

INSERT INTO `ie` (u, d, t) VALUES (-1, 1, 1);

INSERT INTO `ie` (d, t) VALUES ('x', 1);

INSERT INTO `ie` (k, d, t) VALUES (1, 1, 1);

-- More values than columns is an error here (upstream ignored the extra ones).
INSERT INTO `ie` (d, t) VALUES (1, 1, 2);

INSERT INTO `ie` (d, t) VALUES (1, 'yesterday');

INSERT INTO `ie_missing` (d) VALUES (1);

-- A failing row fails the whole statement: nothing of it is written.
INSERT INTO `ie` (d, t) VALUES (1, 1), (2, 2), (3, 'bad');

SELECT count(*) FROM `ie`;

DROP TABLE `ie`;
