DROP TABLE IF EXISTS `old`;

CREATE TABLE `old` (host string TAG, v double, t timestamp NOT NULL);

INSERT INTO `old` (host, v, t) VALUES ('a', 3, 1), ('b', 1, 2), ('c', 2, 3), ('a', 5, 4), ('b', NULL, 5);

SELECT host, v FROM `old` ORDER BY v DESC;

SELECT host, v FROM `old` ORDER BY v NULLS FIRST;

SELECT host, v FROM `old` ORDER BY host, v DESC;

SELECT host, v AS value FROM `old` ORDER BY value LIMIT 2;

SELECT host, v FROM `old` ORDER BY 2 DESC LIMIT 2 OFFSET 1;

SELECT host FROM `old` ORDER BY t LIMIT 1, 2;

SELECT host FROM `old` ORDER BY v * -1 LIMIT 1;

SELECT DISTINCT host FROM `old` ORDER BY host;

SELECT DISTINCT host, v > 2 FROM `old` ORDER BY 1, 2;

SELECT host FROM `old` ORDER BY 3;

SELECT host FROM `old` LIMIT -1;

DROP TABLE `old`;
