DROP TABLE IF EXISTS `fr`;

CREATE TABLE `fr` (host string TAG, v double, t timestamp NOT NULL) WITH (num_rows_per_row_group = 100);

INSERT INTO `fr` (host, v, t) VALUES ('a', 1, 1000), ('b', 2, 2000), ('c', 3, 3000);

-- SQLNESS ARG pre_cmd=flush
SELECT host, v FROM `fr` ORDER BY t;

INSERT INTO `fr` (host, v, t) VALUES ('a', 10, 1000), ('d', 4, 4000);

-- One row is in an SST and newer in the memtable: the newer wins.
SELECT host, v FROM `fr` ORDER BY t;

-- SQLNESS ARG pre_cmd=flush
SELECT host, v FROM `fr` WHERE t >= 2000 ORDER BY t;

SELECT count(*), sum(v) FROM `fr`;

DROP TABLE `fr`;
