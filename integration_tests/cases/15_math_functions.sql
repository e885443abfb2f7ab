SELECT abs(-3), abs(-2.5), ceil(1.2), floor(-1.2), round(2.567), round(2.567, 2), trunc(-7.9);

SELECT sqrt(16), cbrt(27), power(2, 10), pow(2, -1), exp(0), ln(1), log10(1000), log2(8), log(2, 8), log(100);

SELECT sign(-5), signum(0), pi(), degrees(pi()), radians(180), sin(0), cos(0), round(tan(0.5), 6), atan2(1, 1) * 4 = pi();

SELECT isnan(0.0 / 0.0), 1.0 / 0.0, -1.0 / 0.0, 7 % 3, -7 % 3, 7.5 % 2;

SELECT 1 / 0;

SELECT 5 % 0;

SELECT sqrt('a');

SELECT abs(-9223372036854775807 - 1);
