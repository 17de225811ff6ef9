-- Masking functions: never an error for any value; NULL in, NULL out.

-- Every function: NULL in, NULL out.
SELECT privacy.mask_partial(NULL, 1, '*', 1) IS NULL AS partial, privacy.mask_email(NULL) IS NULL AS email,
       privacy.mask_credit_card(NULL) IS NULL AS credit_card, privacy.mask_hash(NULL, 'x') IS NULL AS hash,
       privacy.mask_generalize(NULL::int4, 10) IS NULL AS gen_int, privacy.mask_generalize(NULL::numeric, 10) IS NULL AS gen_num,
       privacy.mask_generalize(NULL::date, 'year') IS NULL AS gen_date, privacy.mask_generalize(NULL::timestamptz, 'year') IS NULL AS gen_ts,
       privacy.mask_noise(NULL::int4, 0.1) IS NULL AS noise_int, privacy.mask_noise(NULL::float8, 0.1) IS NULL AS noise_float,
       privacy.mask_redact(NULL::int4) IS NULL AS redact;
-- The empty string: masked (a card number without digits has nothing to hide).
SELECT privacy.mask_partial('', 0, '***', 0) AS partial, privacy.mask_email('') AS email,
       privacy.mask_credit_card('') = '' AS credit_card_empty, privacy.mask_redact(''::text) AS redact;

-- mask_partial keeps characters, not bytes; short values are masked whole.
SELECT v, privacy.mask_partial(v, 0, '***-**-', 4) AS ssn, privacy.mask_partial(v, 2, '…', 2) AS ends
  FROM (VALUES ('123-45-6789'), ('6789'), ('12'), (''), ('Zoë Ångström'), ('東京都渋谷区'), ('🙂🙂🙂🙂🙂')) t(v);
SELECT privacy.mask_partial(NULL, 1, '*', 1) IS NULL AS null_in_null_out;
-- The result never equals the original, even when the padding does.
SELECT v, privacy.mask_partial(v, 1, v, 1) AS masked, privacy.mask_partial(v, 1, v, 1) <> v AS differs
  FROM (VALUES ('*'), ('ab'), ('abc'), ('')) t(v);
SELECT privacy.mask_partial('secret', -3, '#', -1) AS negative_counts_act_as_zero;
SELECT privacy.mask_partial('abcdef', 2147483647, '*', 2147483647) AS huge_counts;

-- mask_email: local part and domain masked, TLD kept; the last '@' splits.
SELECT v, privacy.mask_email(v) AS masked
  FROM (VALUES ('ann@example.com'), ('a@b.co'), ('no-at-sign'), ('two@at@signs.org'),
               ('@example.com'), ('user@'), ('user@localhost'), ('ünïcödé@bücher.de'), ('')) t(v);

-- mask_credit_card: last four digits kept, separators kept.
SELECT v, privacy.mask_credit_card(v) AS masked
  FROM (VALUES ('4111-1111-1111-1111'), ('4111 1111 1111 1111'), ('4111111111111111'),
               ('1234'), ('12'), ('card: 5500-0000-0000-0004'), ('')) t(v);

-- mask_generalize: lower bound of the bucket; dates to month, year, decade.
SELECT v, privacy.mask_generalize(v, 10) AS by_10 FROM (VALUES (0), (7), (10), (-1), (-10), (-11), (2147483647), (-2147483648)) t(v);
SELECT privacy.mask_generalize(123456789012::int8, 1000::int8), privacy.mask_generalize(-5::int8, 1000::int8);
SELECT v, privacy.mask_generalize(v, 0.5::float8) AS by_half
  FROM (VALUES (1.7::float8), (-1.7), ('NaN'), ('Infinity'), ('-Infinity')) t(v);
SELECT privacy.mask_generalize(1e308::float8, 1e-308::float8) = 1e308 AS tiny_step_no_overflow,
       privacy.mask_generalize(-1e308::float8, 1e-308::float8) <= -1e308 AS tiny_step_below_zero;
SELECT v, privacy.mask_generalize(v, 1000::numeric) AS by_1000
  FROM (VALUES (123456.789::numeric), (-0.5), ('NaN'), ('Infinity'), ('-Infinity')) t(v);
-- exact for any size: never above the value (a rounded quotient was, 2e19 by 3)
SELECT v, privacy.mask_generalize(v, 3::numeric) AS by_3, privacy.mask_generalize(v, 0.25) AS by_quarter
  FROM (VALUES (20000000000000000000::numeric), (-100000000000000000000), (1.3), (-1.3), (7.77777777777777777777)) t(v);
SELECT d, privacy.mask_generalize(d, 'month') AS month, privacy.mask_generalize(d, 'year') AS year,
       privacy.mask_generalize(d, 'decade') AS decade
  FROM (VALUES ('2026-11-24'::date), ('2000-01-01'), ('1999-12-31'), ('0001-01-01'), ('4713-01-01 BC'),
               ('5874897-12-31'), ('infinity'), ('-infinity')) t(d);
SELECT privacy.mask_generalize('2026-11-24 13:45:12'::timestamp, 'month'),
       privacy.mask_generalize('infinity'::timestamp, 'year'),
       privacy.mask_generalize('1999-12-31 23:59:59.999999'::timestamp, 'decade'),
       privacy.mask_generalize('4713-11-24 00:00:00 BC'::timestamp, 'decade'),
       privacy.mask_generalize('294276-12-31 23:59:59'::timestamp, 'year');
SELECT privacy.mask_generalize('294276-12-31 23:59:59+00'::timestamptz, 'month') IS NOT NULL AS far_end_ok,
       privacy.mask_generalize('4713-11-24 00:00:00+00 BC'::timestamptz, 'decade') IS NOT NULL AS far_start_ok;
SET TimeZone = 'UTC';
SELECT privacy.mask_generalize('2026-11-24 13:45:12+00'::timestamptz, 'decade');
RESET TimeZone;
-- Parameters a rule would refuse give NULL, never an error.
SELECT privacy.mask_generalize(5, 0) AS zero_step, privacy.mask_generalize(5, -1) AS negative_step,
       privacy.mask_generalize('2026-01-01'::date, 'week') AS unknown_unit,
       privacy.mask_generalize(1.5::float8, 'NaN'::float8) AS nan_step;

-- mask_noise: deterministic per value, bounded by the ratio.
SELECT privacy.mask_noise(1000, 0.1) = privacy.mask_noise(1000, 0.1) AS same_value_same_noise;
-- The same query twice returns the same values: averaging gains nothing.
CREATE TEMP TABLE noise_run AS SELECT g, privacy.mask_noise(g * 100, 0.1) AS n FROM generate_series(1, 500) g;
SELECT count(*) FILTER (WHERE n = privacy.mask_noise(g * 100, 0.1)) AS same_in_second_run FROM noise_run;
SELECT count(*) FILTER (WHERE abs(privacy.mask_noise(g, 0.1) - g) <= ceil(0.1 * abs(g))) AS within_bounds,
       count(*) FILTER (WHERE privacy.mask_noise(g, 0.1) <> g) > 50 AS mostly_changed,
       count(DISTINCT privacy.mask_noise(g, 0.1) - g) > 10 AS varied
  FROM generate_series(-1000, 1000, 7) g;
SELECT count(*) FILTER (WHERE abs(privacy.mask_noise(v, 0.2) - v) <= 0.2 * abs(v) + 1e-9) AS float_within_bounds
  FROM (SELECT g * 1.37::float8 AS v FROM generate_series(-100, 100) g) t;
SELECT privacy.mask_noise('NaN'::float8, 0.1), privacy.mask_noise('Infinity'::float8, 0.1),
       privacy.mask_noise('NaN'::numeric, 0.1), privacy.mask_noise(2147483647, 1.0) IS NOT NULL AS no_overflow;
SELECT privacy.mask_noise(5, 0) AS zero_ratio, privacy.mask_noise(5, 2) AS ratio_above_one;
SELECT abs(privacy.mask_noise(123.45::numeric, 0.05) - 123.45) <= 0.05 * 123.45 AS numeric_within_bounds;

-- mask_redact: a fixed placeholder of the value's type.
SELECT privacy.mask_redact('secret'::text), privacy.mask_redact(42), privacy.mask_redact(3.14::numeric),
       privacy.mask_redact('2026-11-24'::date), privacy.mask_redact(true), privacy.mask_redact('\x01'::bytea),
       privacy.mask_redact('secret'::varchar(20)), privacy.mask_redact(NULL::text) IS NULL AS null_ok;

-- mask_hash: a keyed pseudonym; stable, different per key, only with a grant.
SELECT privacy.create_key('pseudo') > 0 AS created;
SELECT privacy.create_key('pseudo2') > 0 AS created;
SELECT length(privacy.mask_hash('ann@example.com', 'pseudo')) AS len,
       privacy.mask_hash('ann@example.com', 'pseudo') = privacy.mask_hash('ann@example.com', 'pseudo') AS stable,
       privacy.mask_hash('ann@example.com', 'pseudo') <> privacy.mask_hash('ann@example.com', 'pseudo2') AS per_key,
       privacy.mask_hash('ann@example.com', 'pseudo') <> privacy.mask_hash('bob@example.com', 'pseudo') AS per_value,
       privacy.mask_hash('', 'pseudo') IS NOT NULL AS empty_ok;
SELECT privacy.rotate_key('pseudo');
SELECT privacy.mask_hash('ann@example.com', 'pseudo') = privacy.mask_hash('ann@example.com', 'pseudo') AS stable_after_rotation;
SELECT privacy.mask_hash('x', 'nosuchkey');
\echo :LAST_ERROR_SQLSTATE
CREATE ROLE regress_px_analyst;
SET ROLE regress_px_analyst;
SELECT privacy.mask_hash('ann@example.com', 'pseudo');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT privacy.grant_key('pseudo', 'regress_px_analyst');
SET ROLE regress_px_analyst;
SELECT length(privacy.mask_hash('ann@example.com', 'pseudo')) AS granted_len;
RESET ROLE;
SELECT privacy.revoke_key('pseudo', 'regress_px_analyst');
DROP ROLE regress_px_analyst;

-- mask_noise on integers stays within floor(ratio * |value|) of the value:
-- rounding once stepped past it (8 at 0.1 gave 9), also near the limits.
SELECT privacy.mask_noise(8, 0.1) AS eight, privacy.mask_noise(8::int8, 0.1) AS eight_int8;
SELECT count(*) FILTER (WHERE abs(privacy.mask_noise(v, r)::numeric - v) > floor(abs(v) * r)) AS int4_beyond,
       count(*) FILTER (WHERE abs(privacy.mask_noise(v::int8, r)::numeric - v) > floor(abs(v) * r)) AS int8_beyond
  FROM generate_series(-3000, 3000) v, (VALUES (0.1::float8), (0.05), (0.33), (1)) x(r);
SELECT count(*) FILTER (WHERE abs(privacy.mask_noise(v, 1)::numeric - v) > abs(v::numeric)) AS int4_edges_beyond
  FROM (VALUES (2147483647), (-2147483648), (2147483646), (-2147483647)) x(v);
SELECT count(*) FILTER (WHERE abs(privacy.mask_noise(v, 1)::numeric - v) > abs(v::numeric)) AS int8_edges_beyond
  FROM (VALUES (9223372036854775807::int8), ('-9223372036854775808'::int8), (9223372036854775806::int8)) x(v);
-- A finite float stays finite, however large.
SELECT privacy.mask_noise(1.7e308::float8, 1) <> 'Infinity' AS finite,
       privacy.mask_noise(-1.7e308::float8, 1) <> '-Infinity' AS finite_negative,
       privacy.mask_noise(1.7e308::numeric, 1) <> 'Infinity'::numeric AS numeric_finite;
-- mask_hash never raises for an unknown or destroyed key: NULL.
SELECT privacy.mask_hash('x', 'nokey') IS NULL AS unknown_null, privacy.mask_hash('x', '') IS NULL AS empty_name_null;
SELECT privacy.create_key('pseudo_gone') > 0 AS created;
SELECT privacy.destroy_key('pseudo_gone', 'destroy pseudo_gone');
SELECT privacy.mask_hash('x', 'pseudo_gone') IS NULL AS destroyed_null;
-- mask_redact of times, money and oid.
SELECT privacy.mask_redact(time '12:34'), privacy.mask_redact(timetz '12:34+02'),
       privacy.mask_redact(42::money), privacy.mask_redact(7::oid);
-- A masked text longer than a text may be is refused up front (54000,
-- sizes only), not by an "invalid memory alloc request size" (XX000): in
-- mask_partial with a long padding (the partial and email rules and
-- mask_email check their result's length alike; mask_credit_card never
-- lengthens).
SELECT length(privacy.mask_partial(repeat('a', 600000000), 290000000, repeat('*', 500000000), 290000000));
