DROP TABLE IF EXISTS `sq`;

CREATE TABLE `sq` (host string TAG, usage double, t timestamp NOT NULL);

INSERT INTO `sq` (host, usage, t) VALUES ('a', 1, 1000), ('a', 3, 2000), ('b', 10, 1000), ('c', 7, 1000);

SELECT x.host, x.m FROM (SELECT host, max(usage) AS m FROM `sq` GROUP BY host) AS x WHERE x.m > 5 ORDER BY x.m;

SELECT count(*) FROM (SELECT DISTINCT host FROM `sq`) d;

WITH m AS (SELECT host, max(usage) AS top FROM `sq` GROUP BY host) SELECT host, top FROM m WHERE top < 5;

WITH a AS (SELECT 1 AS x), b AS (SELECT x + 1 AS y FROM a) SELECT y FROM b;

WITH r (h) AS (SELECT host FROM `sq`) SELECT h, count(*) FROM r GROUP BY h ORDER BY h;

SELECT host FROM `sq` WHERE usage < 5 UNION ALL SELECT host FROM `sq` WHERE usage > 5 ORDER BY host;

SELECT host FROM `sq` UNION SELECT 'z' ORDER BY 1 DESC;

SELECT 1 AS n UNION ALL SELECT 2.5 ORDER BY n;

SELECT 1 UNION ALL SELECT 1, 2;

SELECT host FROM `sq` WHERE host IN (SELECT host FROM `sq`);

SELECT 1 INTERSECT SELECT 1;

DROP TABLE `sq`;
