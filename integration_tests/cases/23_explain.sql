DROP TABLE IF EXISTS `ex`;

CREATE TABLE `ex` (host string TAG, v double, t timestamp NOT NULL);

INSERT INTO `ex` (host, v, t) VALUES ('a', 1, 1000), ('b', 2, 5000);

EXPLAIN SELECT host, max(v) FROM `ex` WHERE t >= 1000 AND t < 2000 AND host = 'a' GROUP BY host ORDER BY 2 DESC LIMIT 3;

EXPLAIN SELECT e.host, x.n FROM `ex` e JOIN (SELECT host, count(*) AS n FROM `ex` GROUP BY host) x ON e.host = x.host;

-- SQLNESS REPLACE elapsed=[0-9.a-zµ]+ elapsed=REDACTED
EXPLAIN ANALYZE SELECT count(*) FROM `ex` WHERE t >= 4000;

-- SQLNESS REPLACE elapsed=[0-9.a-zµ]+ elapsed=REDACTED
-- SQLNESS ARG pre_cmd=flush
EXPLAIN ANALYZE SELECT host FROM `ex` WHERE t < 2000;

DROP TABLE `ex`;
