DROP TABLE IF EXISTS `tsid_demo`;

DROP TABLE IF EXISTS `h2o_feet`;

CREATE TABLE `tsid_demo` (`name` string TAG, `value` double NOT NULL, `t` timestamp NOT NULL, TIMESTAMP KEY(t));

INSERT INTO `tsid_demo` (t, name, value) VALUES (1651737067000, 'horaedb', 100);

-- The tsid upstream computes for name='horaedb' (tag column id 3).
SELECT * FROM `tsid_demo`;

CREATE TABLE `h2o_feet` (`level_description` string TAG, `location` string TAG, `water_level` double, `time` timestamp NOT NULL, TIMESTAMP KEY(time));

INSERT INTO `h2o_feet` (time, level_description, location, water_level) VALUES
  (1439827200000, 'below 3 feet', 'santa_monica', 2.064), (1439827200000, 'between 6 and 9 feet', 'coyote_creek', 8.12);

SELECT tsid, level_description, location FROM `h2o_feet` ORDER BY tsid;

-- No tags: tsid is 0; a NULL tag is skipped.
INSERT INTO `h2o_feet` (time, level_description, water_level) VALUES (1439827200001, NULL, 1);

SELECT tsid, location FROM `h2o_feet` WHERE time = 1439827200001;

DROP TABLE `tsid_demo`;

DROP TABLE `h2o_feet`;
