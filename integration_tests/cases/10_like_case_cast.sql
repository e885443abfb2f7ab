DROP TABLE IF EXISTS `lcc`;

CREATE TABLE `lcc` (name string TAG, v double, t timestamp NOT NULL);

INSERT INTO `lcc` (name, v, t) VALUES ('alpha', 1, 1), ('beta', 5, 2), ('gamma_1', 9, 3), ('Alpine', 12, 4);

SELECT name FROM `lcc` WHERE name LIKE 'al%' ORDER BY name;

SELECT name FROM `lcc` WHERE name ILIKE 'al%' ORDER BY name;

SELECT name FROM `lcc` WHERE name LIKE '_eta';

SELECT name FROM `lcc` WHERE name LIKE '%\_1';

SELECT name FROM `lcc` WHERE name NOT LIKE '%a' ORDER BY name;

SELECT name, CASE WHEN v > 8 THEN 'high' WHEN v > 3 THEN 'mid' ELSE 'low' END AS level FROM `lcc` ORDER BY v;

SELECT name, CASE name WHEN 'alpha' THEN 1 WHEN 'beta' THEN 2 END AS code FROM `lcc` ORDER BY v;

SELECT CAST(v AS bigint) AS i, CAST(v AS string) AS s, CAST('42' AS int) AS n, CAST(1 AS boolean) AS b FROM `lcc` WHERE name = 'beta';

SELECT CAST('2024-01-02 03:04:05' AS timestamp), CAST(TIMESTAMP '2024-01-02 03:04:05' AS date);

SELECT CAST('abc' AS int);

SELECT CAST(1.5 AS int);

DROP TABLE `lcc`;
