DROP TABLE IF EXISTS `w`;

CREATE TABLE `w` (host string TAG, n bigint, u uint32, v double, t timestamp NOT NULL);

INSERT INTO `w` (host, n, u, v, t) VALUES ('a', 1, 10, 0.5, 1000), ('b', 2, 20, 1.5, 2000), ('c', 3, 30, 2.5, 3000), ('d', 4, 40, 3.5, 4000);

SELECT host FROM `w` WHERE n > 1 AND n <= 3 ORDER BY host;

SELECT host FROM `w` WHERE n = 1 OR v > 3 ORDER BY host;

SELECT host FROM `w` WHERE NOT (n = 1 OR n = 2) ORDER BY host;

SELECT host FROM `w` WHERE n <> 2 AND n != 3 ORDER BY host;

SELECT host FROM `w` WHERE host IN ('a', 'c', 'x') ORDER BY host;

SELECT host FROM `w` WHERE host NOT IN ('a', 'c') ORDER BY host;

SELECT host FROM `w` WHERE n BETWEEN 2 AND 3 ORDER BY host;

SELECT host FROM `w` WHERE n NOT BETWEEN 2 AND 3 ORDER BY host;

SELECT host FROM `w` WHERE u >= 30 ORDER BY host;

SELECT host FROM `w` WHERE t >= 2000 AND t < 4000 ORDER BY host;

SELECT host FROM `w` WHERE v > 1 AND (host = 'b' OR host = 'd') ORDER BY host;

SELECT host FROM `w` WHERE n + u > 30 ORDER BY host;

SELECT host FROM `w` WHERE n;

DROP TABLE `w`;
