DROP TABLE IF EXISTS `gb`;

CREATE TABLE `gb` (host string TAG, region string TAG, v double, t timestamp NOT NULL);

INSERT INTO `gb` (host, region, v, t) VALUES
  ('a', 'eu', 1, 1000), ('a', 'eu', 2, 61000), ('b', 'eu', 3, 1000), ('b', 'eu', 4, 122000), ('c', 'us', 5, 1000);

SELECT region, count(*), sum(v) FROM `gb` GROUP BY region ORDER BY region;

SELECT region, host, max(v) FROM `gb` GROUP BY region, host ORDER BY region, host;

SELECT region AS r, count(*) AS n FROM `gb` GROUP BY r HAVING count(*) > 1;

SELECT host, sum(v) AS s FROM `gb` GROUP BY 1 HAVING s >= 3 ORDER BY s DESC;

SELECT time_bucket(t, 'PT1M') AS minute, count(*) FROM `gb` GROUP BY minute ORDER BY minute;

SELECT v > 2 AS big, count(*) FROM `gb` GROUP BY v > 2 ORDER BY big;

SELECT host, v FROM `gb` GROUP BY host;

SELECT host FROM `gb` HAVING host = 'a';

DROP TABLE `gb`;
