DROP TABLE IF EXISTS `ow`;

DROP TABLE IF EXISTS `ap`;

CREATE TABLE `ow` (k string TAG, v int, dic string, t timestamp NOT NULL) WITH (update_mode = 'OVERWRITE');

CREATE TABLE `ap` (k string TAG, v int, dic string, t timestamp NOT NULL) WITH (update_mode = 'APPEND');

INSERT INTO `ow` (k, v, dic, t) VALUES ('a', 10, 'd1', 1), ('b', 20, 'd2', 1);

INSERT INTO `ap` (k, v, dic, t) VALUES ('a', 10, 'd1', 1), ('b', 20, 'd2', 1);

-- OVERWRITE keeps the last write of a primary key, the whole row: dic becomes NULL.
INSERT INTO `ow` (k, v, t) VALUES ('a', 100, 1);

INSERT INTO `ap` (k, v, t) VALUES ('a', 100, 1);

SELECT k, v, dic FROM `ow` ORDER BY k;

SELECT k, v, dic FROM `ap` ORDER BY k, v;

-- Within one statement the later row wins.
INSERT INTO `ow` (k, v, t) VALUES ('c', 1, 5), ('c', 2, 5);

SELECT k, v FROM `ow` WHERE k = 'c';

-- After a flush the newer memtable row still overrides the SST row.
-- SQLNESS ARG pre_cmd=flush
INSERT INTO `ow` (k, v, dic, t) VALUES ('b', 21, 'new', 1);

SELECT k, v, dic FROM `ow` ORDER BY k;

-- SQLNESS ARG pre_cmd=flush
SELECT count(*) FROM `ap`;

DROP TABLE `ow`;

DROP TABLE `ap`;
