DROP TABLE IF EXISTS `sd_a`;

DROP TABLE IF EXISTS `sd_b`;

CREATE TABLE `sd_a` (host string TAG, v double, t timestamp NOT NULL);

CREATE TABLE `sd_b` (t timestamp NOT NULL);

SHOW TABLES LIKE 'sd\_%';

SHOW TABLES LIKE 'sd_a';

SHOW TABLES LIKE 'nothing%';

SHOW DATABASES;

EXISTS TABLE `sd_a`;

EXISTS `sd_missing`;

DESC `sd_a`;

DESCRIBE TABLE `sd_missing`;

SHOW CREATE TABLE `sd_missing`;

DROP TABLE `sd_a`;

DROP TABLE IF EXISTS `sd_a`;

DROP TABLE `sd_a`;

DROP TABLE `sd_b`;
