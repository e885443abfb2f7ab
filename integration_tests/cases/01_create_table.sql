DROP TABLE IF EXISTS `demo`;

CREATE TABLE `demo` (`name` string TAG, `value` double NOT NULL, `t` timestamp NOT NULL, TIMESTAMP KEY(t)) ENGINE=Analytic WITH (enable_ttl='false');

-- The timestamp key is inferred when exactly one column is a timestamp; key columns come first.
CREATE TABLE `inferred` (a bigint, b int, ts timestamp NOT NULL);

SHOW CREATE TABLE `inferred`;

-- Inline TIMESTAMP KEY, a trailing comma, DICTIONARY, UNSIGN and COMMENT.
CREATE TABLE `inline` (ts timestamp NOT NULL TIMESTAMP KEY, host string TAG DICTIONARY COMMENT 'the host', n int UNSIGN, );

SHOW CREATE TABLE `inline`;

-- An explicit primary key that includes tsid.
CREATE TABLE `with_pk` (t1 string TAG, c1 double, t timestamp NOT NULL, PRIMARY KEY(t1, tsid, t), TIMESTAMP KEY(t));

DESCRIBE `with_pk`;

-- An explicit primary key without tsid: no tsid column.
CREATE TABLE `no_tsid` (k string, v double, t timestamp NOT NULL, PRIMARY KEY(k, t), TIMESTAMP KEY(t));

DESCRIBE `no_tsid`;

CREATE TABLE IF NOT EXISTS `demo` (t timestamp NOT NULL);

CREATE TABLE `demo` (t timestamp NOT NULL);

CREATE TABLE `no_ts` (a int);

CREATE TABLE `two_ts` (a timestamp, b timestamp);

CREATE TABLE `tsid_col` (tsid uint64, t timestamp NOT NULL);

CREATE TABLE `bad_key` (d double, t timestamp NOT NULL, PRIMARY KEY(d, t), TIMESTAMP KEY(t));

CREATE TABLE `not_in_pk` (k string, t timestamp NOT NULL, PRIMARY KEY(k), TIMESTAMP KEY(t));

CREATE TABLE `dict_double` (d double DICTIONARY, t timestamp NOT NULL);

CREATE TABLE `decimal` (d decimal, t timestamp NOT NULL);

CREATE TABLE `dup` (a int, a int, t timestamp NOT NULL);

CREATE TABLE `ts_tag` (t timestamp NOT NULL TAG);

DROP TABLE `demo`;

DROP TABLE `inferred`;

DROP TABLE `inline`;

DROP TABLE `with_pk`;

DROP TABLE `no_tsid`;
