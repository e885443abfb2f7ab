DROP TABLE IF EXISTS `opts`;

CREATE TABLE `opts` (t timestamp NOT NULL) WITH (
  ttl = '36h', update_mode = 'append', write_buffer_size = '300M', num_rows_per_row_group = 10,
  arena_block_size = 10, compression = 'lz4', memtable_type = 'weird', segment_duration = '0', unknown_key = 'ignored'
);

-- ttl is truncated to days, row groups and arena blocks are clamped, segment_duration 0 means 2h.
SHOW CREATE TABLE `opts`;

CREATE TABLE `tw` (t timestamp NOT NULL) WITH (compaction_strategy = 'time_window', enable_ttl = false);

SHOW CREATE TABLE `tw`;

CREATE TABLE `bad1` (t timestamp NOT NULL) WITH (update_mode = 'merge');

CREATE TABLE `bad2` (t timestamp NOT NULL) WITH (compression = 'gzip');

CREATE TABLE `bad3` (t timestamp NOT NULL) WITH (ttl = '7x');

CREATE TABLE `bad4` (t timestamp NOT NULL) WITH (storage_format = 'hybrid');

CREATE TABLE `bad5` (t timestamp NOT NULL) WITH (layered_enable = 'true');

CREATE TABLE `bad6` (t timestamp NOT NULL) WITH (enable_ttl = 'yes');

ALTER TABLE `opts` MODIFY SETTING ttl = '10d', update_mode = 'OVERWRITE', compression = 'ZSTD';

-- update_mode cannot change after creation.
SHOW CREATE TABLE `opts`;

DROP TABLE `opts`;

DROP TABLE `tw`;
