DROP TABLE IF EXISTS `ttl`;

-- TTL is enforced when reading: rows older than now() - ttl are invisible
-- at once, in memtables and SSTs, not only after a compaction drops them.
CREATE TABLE `ttl` (host string TAG, v double, t timestamp NOT NULL) WITH (enable_ttl = 'true', ttl = '1d');

INSERT INTO `ttl` (host, v, t) VALUES ('old', 1, 1000), ('older', 2, 2000);

INSERT INTO `ttl` (host, v, t) VALUES ('new', 3, now());

SELECT host, v FROM `ttl`;

SELECT count(*) FROM `ttl` WHERE t < 1000000;

-- Turning TTL off shows the expired rows that no compaction dropped yet.
ALTER TABLE `ttl` MODIFY SETTING enable_ttl = 'false';

SELECT host, v FROM `ttl` ORDER BY t;

ALTER TABLE `ttl` MODIFY SETTING enable_ttl = 'true';

-- SQLNESS ARG pre_cmd=flush
SELECT host, v FROM `ttl`;

DROP TABLE `ttl`;
