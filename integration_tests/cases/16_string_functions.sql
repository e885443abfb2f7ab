SELECT upper('abc'), lower('ABC'), length('héllo'), char_length('abc'), octet_length('héllo'), reverse('abc');

SELECT substr('hello', 2), substr('hello', 2, 3), substring('hello', 0, 2), left('hello', 2), right('hello', 3), left('hello', -1);

SELECT concat('a', NULL, 'b', 1, 2.5), concat_ws('-', 'a', NULL, 'b'), 'a' || 'b' || 'c';

SELECT trim('  x  '), ltrim('xxa', 'x'), rtrim('axx', 'x'), btrim('--a--', '-');

SELECT lpad('7', 3, '0'), rpad('ab', 5, 'xy'), lpad('hello', 2), repeat('ab', 3), replace('a-b-c', '-', '+');

SELECT split_part('a,b,c', ',', 2), split_part('a,b,c', ',', 5), starts_with('horaedb', 'hor'), ends_with('horaedb', 'db'), strpos('hello', 'l'), instr('hello', 'z');

SELECT initcap('hello wORLD'), ascii('A'), chr(66), to_hex(255);

SELECT 'it''s', 'a\tb', "double \"quoted\"";

SELECT upper(1);

SELECT substr('abc', 'x');

SELECT lower();
