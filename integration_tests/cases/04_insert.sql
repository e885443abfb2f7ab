DROP TABLE IF EXISTS `ins`;

CREATE TABLE `ins` (host string TAG, v double, n bigint, b varbinary, ok boolean, t timestamp NOT NULL);

INSERT INTO `ins` (t, host, v, n, b, ok) VALUES (1, 'a', 1.5, -7, x'0aff', true), (2, "b", -2, 9223372036854775807, 'text', false);

-- INTO and the column list are optional (values in schema order, tsid excluded).
INSERT ins VALUES (3, 'c', 0.25, 0, x'', true);

INSERT INTO `ins` VALUE (4, 'd', NULL, NULL, NULL, NULL);

-- String timestamps are accepted in INSERT (upstream wanted integers).
INSERT INTO `ins` (t, host) VALUES ('1970-01-01 00:00:05', 'e'), ('1970-01-01T00:00:06.5Z', 'f');

SELECT t, host, v, n, b, ok FROM `ins` ORDER BY t;

DROP TABLE `ins`;
