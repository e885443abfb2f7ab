DROP TABLE IF EXISTS `dft`;

CREATE TABLE `dft` (c1 int, c3 uint32, c5 uint32 DEFAULT c3 * 2 + 1, s string DEFAULT 'none', d double DEFAULT 1.5, t timestamp NOT NULL);

INSERT INTO `dft` (c1, c3, t) VALUES (1, 10, 1000);

INSERT INTO `dft` (c1, t) VALUES (2, 2000);

INSERT INTO `dft` (c1, c3, c5, s, t) VALUES (3, 1, 99, 'given', 3000);

SELECT c1, c3, c5, s, d FROM `dft` ORDER BY c1;

SHOW CREATE TABLE `dft`;

CREATE TABLE `bad_default` (x int DEFAULT nope, t timestamp NOT NULL);

CREATE TABLE `bad_default2` (x int DEFAULT TIME '01:00:00', t timestamp NOT NULL);

DROP TABLE `dft`;
