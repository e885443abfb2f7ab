DROP TABLE IF EXISTS `agg`;

CREATE TABLE `agg` (host string TAG, v double, n bigint, u uint64, t timestamp NOT NULL);

INSERT INTO `agg` (host, v, n, u, t) VALUES
  ('a', 1, 1, 10, 1000), ('a', 3, 2, 20, 2000), ('b', 10, 3, 30, 1000), ('c', 7, 4, 40, 1000), ('c', NULL, 5, 50, 5000);

SELECT count(*), count(v), count(DISTINCT host), sum(v), sum(n), sum(u), avg(v), min(v), max(v) FROM `agg`;

SELECT min(host), max(host), min(t), max(t) FROM `agg`;

SELECT host, first(v), last(v), first(n), last(n) FROM `agg` GROUP BY host ORDER BY host;

SELECT round(stddev(v), 6), round(stddev_pop(v), 6), round(variance(v), 6), round(var_pop(v), 6) FROM `agg`;

SELECT approx_distinct(host), thetasketch_distinct(n), median(v), approx_percentile_cont(v, 0.25) FROM `agg`;

SELECT sum(DISTINCT n % 2), count(DISTINCT u / 20) FROM `agg`;

SELECT sum(v) FROM `agg` WHERE host = 'nobody';

SELECT sum(host) FROM `agg`;

SELECT count(host, v) FROM `agg`;

DROP TABLE `agg`;
