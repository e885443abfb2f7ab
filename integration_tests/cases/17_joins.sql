DROP TABLE IF EXISTS `j_cpu`;

DROP TABLE IF EXISTS `j_hosts`;

CREATE TABLE `j_cpu` (host string TAG, usage double, t timestamp NOT NULL);

CREATE TABLE `j_hosts` (host string TAG, region string, t timestamp NOT NULL);

INSERT INTO `j_cpu` (host, usage, t) VALUES ('a', 1, 1000), ('a', 3, 2000), ('b', 10, 1000), ('c', 7, 1000);

INSERT INTO `j_hosts` (host, region, t) VALUES ('a', 'eu', 0), ('b', 'us', 0), ('d', 'ap', 0);

SELECT c.host, h.region, c.usage FROM `j_cpu` c JOIN `j_hosts` h ON c.host = h.host ORDER BY c.usage;

SELECT c.host, h.region FROM `j_cpu` AS c LEFT JOIN `j_hosts` AS h ON c.host = h.host WHERE c.t = 1000 ORDER BY c.host;

SELECT h.region, sum(c.usage) AS s FROM `j_cpu` c INNER JOIN `j_hosts` h ON c.host = h.host GROUP BY h.region ORDER BY s;

SELECT c.host, h.host FROM `j_cpu` c JOIN `j_hosts` h ON c.host = h.host AND c.usage > 2 ORDER BY 1;

SELECT count(*) FROM `j_cpu`, `j_hosts`;

SELECT count(*) FROM `j_cpu` CROSS JOIN `j_hosts` WHERE j_cpu.host = j_hosts.host;

SELECT c.host, h.region FROM `j_cpu` c LEFT JOIN `j_hosts` h ON c.host = h.host AND h.region = 'us' WHERE c.t = 1000 ORDER BY c.host;

SELECT * FROM `j_cpu` c JOIN `j_hosts` h ON c.host = h.host WHERE c.usage = 10;

SELECT host FROM `j_cpu` c JOIN `j_hosts` h ON c.host = h.host;

SELECT c.host FROM `j_cpu` c RIGHT JOIN `j_hosts` h ON c.host = h.host;

DROP TABLE `j_cpu`;

DROP TABLE `j_hosts`;
