DROP TABLE IF EXISTS `tf`;

CREATE TABLE `tf` (v double, t timestamp NOT NULL);

-- 2022-07-02T16:00:00Z, a Saturday (Sunday 00:00 at +08:00).
INSERT INTO `tf` (v, t) VALUES (1, 1656777600000), (2, 1656781199000);

SELECT t, time_bucket(t, 'PT1H'), time_bucket(t, 'PT15M'), time_bucket(t, 'P1D') FROM `tf` ORDER BY t;

-- Day and longer buckets start at midnight in the given zone (upstream: fixed UTC+8, odd weeks).
SELECT time_bucket(t, 'P1D', 'yyyy-MM-dd HH:mm:ss', '+08:00'), time_bucket(t, 'P1W', '', 'UTC'), time_bucket(t, 'P1M'), time_bucket(t, 'P1Y') FROM `tf` ORDER BY t;

SELECT date_trunc('hour', t), date_trunc('week', t), date_trunc('quarter', t) FROM `tf` ORDER BY t;

SELECT date_part('year', t), date_part('month', t), extract(day FROM t), extract(hour FROM t), date_part('dow', t) FROM `tf` ORDER BY t;

SELECT date_bin(INTERVAL '15 minutes', t), date_bin(INTERVAL '1' day, t, TIMESTAMP '2022-07-01T12:00:00Z') FROM `tf` ORDER BY t;

SELECT t + INTERVAL '1 hour', t - INTERVAL '2 days', t - TIMESTAMP '2022-07-02T00:00:00Z' FROM `tf` ORDER BY t;

SELECT to_timestamp(1656777600), to_timestamp_millis(1656777600123), to_timestamp('2022-07-02T16:00:00Z'), to_unixtime(TIMESTAMP '2022-07-02T16:00:00Z');

SELECT count(*) FROM `tf` WHERE t >= '2022-07-02 16:30:00' AND t < '2022-07-03';

SELECT time_bucket(t, 'PT0S') FROM `tf`;

SELECT time_bucket(t, 'P2W') FROM `tf`;

SELECT time_bucket(t, 'P1D', '', 'Mars/Olympus') FROM `tf`;

SELECT INTERVAL '1 month';

DROP TABLE `tf`;
