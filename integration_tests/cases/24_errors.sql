DROP TABLE IF EXISTS `err`;

CREATE TABLE `err` (name string TAG, value double, t timestamp NOT NULL);

SELEC 1;

SELECT * FROM;

SELECT nope FROM `err`;

SELECT * FROM `err_missing`;

SELECT name, count(*) FROM `err`;

SELECT name FROM `err` WHERE count(*) > 1;

SELECT name FROM `err` WHERE value + 'x' > 1;

SELECT name FROM `err` WHERE name;

SELECT nofunc(1);

SELECT name, name FROM `err`;

DELETE FROM `err`;

UPDATE `err` SET value = 1;

CREATE DATABASE foo;

SELECT 'unterminated;

DROP TABLE `err`;
