DROP TABLE IF EXISTS `sel`;

CREATE TABLE `sel` (host string TAG, region string TAG, usage double, t timestamp NOT NULL);

INSERT INTO `sel` (host, region, usage, t) VALUES
  ('a', 'eu', 1.5, 1000), ('a', 'eu', 2.5, 2000), ('a', 'eu', 3.5, 61000),
  ('b', 'us', 10, 1000), ('b', 'us', 20, 2000), ('c', 'us', NULL, 3000);

SELECT host, region, usage, t FROM `sel` ORDER BY t, host;

SELECT * FROM `sel` WHERE host = 'b' ORDER BY t;

SELECT s.host AS h, s.usage FROM `sel` AS s WHERE s.host = 'a' ORDER BY 2;

SELECT usage * 2 + 1 AS x, usage / 2, -usage FROM `sel` WHERE host = 'b' ORDER BY x;

SELECT 1 + 2, 'a', "b", 7 / 2, 7 % 3, 1.5 * 2, 10 - 2 * 3;

SELECT count(*) FROM `sel` WHERE host = 'nobody';

SELECT host FROM `sel` WHERE host = 'nobody';

DROP TABLE `sel`;
