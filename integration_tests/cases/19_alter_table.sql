DROP TABLE IF EXISTS `alt`;

CREATE TABLE `alt` (k string TAG, v double, t timestamp NOT NULL);

INSERT INTO `alt` (k, v, t) VALUES ('x', 1, 1);

ALTER TABLE `alt` ADD COLUMN c string TAG;

ALTER TABLE `alt` ADD COLUMN (d int, e bigint DEFAULT 7, f string DICTIONARY);

INSERT INTO `alt` (k, v, t, c, d, f) VALUES ('y', 2, 2, 'new', 4, 'dict');

SELECT k, v, c, d, e, f FROM `alt` ORDER BY t;

-- The rows from before the ALTER survive a flush with their old schema.
-- SQLNESS ARG pre_cmd=flush
SELECT k, c, e FROM `alt` ORDER BY t;

DESCRIBE `alt`;

SHOW CREATE TABLE `alt`;

ALTER TABLE `alt` ADD COLUMN k int;

ALTER TABLE `alt` ADD COLUMN z int NOT NULL;

ALTER TABLE `alt` ADD COLUMN pk int PRIMARY KEY;

ALTER TABLE `alt` MODIFY SETTING write_buffer_size = '1MB', ttl = '30d';

ALTER TABLE `alt` MODIFY SETTING compression = 'gzip';

ALTER TABLE `alt` RENAME TO `alt2`;

ALTER TABLE `alt` DROP COLUMN d;

ALTER TABLE `missing` ADD COLUMN x int;

DROP TABLE `alt`;
