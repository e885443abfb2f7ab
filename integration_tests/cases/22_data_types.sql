DROP TABLE IF EXISTS `types`;

CREATE TABLE `types` (
  c_ts timestamp NOT NULL, c_double double, c_float float, c_real real, c_string string, c_varbinary varbinary,
  c_u64 uint64, c_u32 uint32, c_u16 uint16, c_u8 uint8, c_bigint bigint, c_int int, c_smallint smallint,
  c_tinyint tinyint, c_bool boolean, c_date date, c_time time, c_int64 int64, c_uint int UNSIGN
);

DESCRIBE `types`;

INSERT INTO `types` VALUES (1, 1.5, 2.5, 3.5, 's', x'01ff', 18446744073709551615, 4294967295, 65535, 255,
  -9223372036854775807, -2147483648, -32768, -128, true, '2024-02-29', '23:59:59.5', 42, 7);

INSERT INTO `types` (c_ts) VALUES (2);

SELECT * FROM `types` ORDER BY c_ts;

SELECT arrow_typeof(c_float), arrow_typeof(c_u16), arrow_typeof(c_date), arrow_typeof(c_time), arrow_typeof(c_uint) FROM `types` WHERE c_ts = 1;

INSERT INTO `types` (c_ts, c_u8) VALUES (3, 256);

INSERT INTO `types` (c_ts, c_tinyint) VALUES (3, -129);

INSERT INTO `types` (c_ts, c_date) VALUES (3, '2024-02-30');

INSERT INTO `types` (c_ts, c_bool) VALUES (3, 'maybe');

DROP TABLE `types`;
