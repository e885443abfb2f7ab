DROP TABLE IF EXISTS `is_src`;

DROP TABLE IF EXISTS `is_dst`;

CREATE TABLE `is_src` (k string TAG, v double, t timestamp NOT NULL);

CREATE TABLE `is_dst` (k string TAG, total bigint, t timestamp NOT NULL);

INSERT INTO `is_src` (k, v, t) VALUES ('a', 1.5, 1), ('a', 2.5, 2), ('b', 4, 1);

INSERT INTO `is_dst` (k, total, t) SELECT k, sum(v), max(t) FROM `is_src` GROUP BY k;

SELECT k, total, t FROM `is_dst` ORDER BY k;

INSERT INTO `is_dst` (k, t) SELECT k FROM `is_src`;

-- 1.5 is no bigint: the whole statement fails and writes nothing.
INSERT INTO `is_dst` (k, total, t) SELECT k, v, t + 100 FROM `is_src`;

SELECT count(*) FROM `is_dst`;

INSERT INTO `is_dst` (k, t) SELECT k, t FROM `is_src` WHERE k = 'nobody';

DROP TABLE `is_src`;

DROP TABLE `is_dst`;
