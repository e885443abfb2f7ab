DROP TABLE IF EXISTS `nulls`;

CREATE TABLE `nulls` (k string TAG, v double, s string, t timestamp NOT NULL);

INSERT INTO `nulls` (k, v, s, t) VALUES ('a', 1, 'x', 1), ('b', NULL, NULL, 2), (NULL, 3, 'z', 3);

SELECT k, v, s FROM `nulls` ORDER BY t;

SELECT count(*), count(k), count(v), sum(v), avg(v), min(s), max(s) FROM `nulls`;

SELECT k FROM `nulls` WHERE v IS NULL;

SELECT t FROM `nulls` WHERE k IS NOT NULL AND s IS NOT NULL ORDER BY t;

SELECT v + 1, v > 2, NOT (v > 2), v IN (1, NULL), coalesce(v, -1) FROM `nulls` ORDER BY t;

SELECT NULL IS NULL, NULL = NULL, NULL IS NOT DISTINCT FROM NULL, 1 IS DISTINCT FROM NULL;

SELECT true AND NULL, false AND NULL, true OR NULL, false OR NULL;

-- NULL sorts last ascending and first descending.
SELECT v FROM `nulls` ORDER BY v;

SELECT v FROM `nulls` ORDER BY v DESC;

SELECT k, count(*) FROM `nulls` GROUP BY k ORDER BY k;

DROP TABLE `nulls`;
