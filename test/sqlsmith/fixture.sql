-- The database SQLsmith runs against (test/sqlsmith/run_sqlsmith.sh): every
-- feature of privacy_ext in use, so that random queries reach its types,
-- operators, functions, views and policies with real data behind them.
CREATE EXTENSION privacy_ext;
CREATE EXTENSION amcheck;

-- Keys: one rotated twice (values under all three versions), one for
-- bytea, one destroyed with values still under it, a default key.
SELECT privacy.create_key('hr');
SELECT privacy.create_key('pay');
SELECT privacy.create_key('gone');
ALTER DATABASE smith SET privacy.default_key = 'hr';
SET privacy.default_key = 'hr';

CREATE ROLE smith_masked LOGIN;
CREATE ROLE smith_crm LOGIN;
CREATE ROLE hr_manager;
GRANT hr_manager TO smith_super;

CREATE TABLE staff (
    id      int PRIMARY KEY,
    name    text NOT NULL,
    ssn     privacy.encrypted_text('hr'),
    email   privacy.encrypted_text_det('hr') UNIQUE,
    photo   privacy.encrypted_bytea('pay'),
    salary  numeric,
    born    date,
    city    text,
    profile jsonb
);
CREATE INDEX staff_email_hash ON staff USING hash (email);
INSERT INTO staff
SELECT g, 'Name ' || g || CASE WHEN g % 7 = 0 THEN ' Zoë 東京' ELSE '' END,
       lpad(g::text, 3, '0') || '-45-' || lpad((g * 37 % 10000)::text, 4, '0'),
       'user' || g || '@example.org',
       decode(md5(g::text), 'hex'),
       30000 + g * 17, date '1960-01-01' + g * 91, 'City ' || (g % 12),
       jsonb_build_object('phone', '+1 555 ' || g, 'tags', jsonb_build_array('a', g))
  FROM generate_series(1, 200) g;
SELECT privacy.rotate_key('hr');
INSERT INTO staff
SELECT g, 'Name ' || g, 'v2-' || g, 'user' || g || '@example.org', NULL, g, NULL, NULL, NULL
  FROM generate_series(201, 260) g;
SELECT privacy.rotate_key('hr');
INSERT INTO staff
SELECT g, 'Name ' || g, 'v3-' || g, NULL, '\x00ff'::bytea, NULL, current_date, '', '{}'
  FROM generate_series(261, 300) g;
SELECT privacy.reencrypt('staff', 'ssn', 50);

CREATE TABLE ledger (id int PRIMARY KEY, staff_id int REFERENCES staff, amount numeric,
                     note privacy.encrypted_text, ref privacy.encrypted_text_det('pay'));
CREATE INDEX ledger_ref ON ledger (ref);
INSERT INTO ledger SELECT g, 1 + g % 300, g * 1.5, 'note ' || g, 'ref-' || (g % 40) FROM generate_series(1, 500) g;

CREATE TABLE shredded (id int, secret privacy.encrypted_text('gone'), tag privacy.encrypted_text_det('gone'));
INSERT INTO shredded SELECT g, 'secret ' || g, 'tag ' || g FROM generate_series(1, 20) g;
SELECT privacy.destroy_key('gone', 'destroy gone');

-- Masking: rules for everyone, a clear rule for a role, a masking view,
-- a masked role.
SELECT privacy.set_mask('staff', 'ssn', 'partial(0, ''***-**-'', 4)');
SELECT privacy.set_mask('staff', 'ssn', 'none', role => 'hr_manager');
SELECT privacy.set_mask('staff', 'email', 'email');
SELECT privacy.set_mask('staff', 'name', 'hash(''hr'')');
SELECT privacy.set_mask('staff', 'salary', 'generalize(1000)');
SELECT privacy.set_mask('staff', 'born', 'generalize(''decade'')');
SELECT privacy.set_mask('staff', 'city', 'redact');
SELECT privacy.set_mask('staff', 'id', 'none');
SELECT privacy.set_mask('ledger', 'amount', 'noise(0.1)');
SELECT privacy.set_mask('ledger', 'id', 'none');
SELECT privacy.create_masking_view('staff');
SELECT privacy.create_masking_view('ledger');
SELECT privacy.mask_role('smith_masked');
GRANT SELECT ON staff, ledger TO smith_masked;

-- Purposes and consent: a consent purpose with a child, a contract
-- purpose, consents (some expiring, some withdrawn), a policy version,
-- protected tables.
SELECT privacy.create_purpose('marketing', 'consent');
SELECT privacy.create_purpose('marketing.email', 'consent', parent => 'marketing');
SELECT privacy.create_purpose('billing', 'contract');
SELECT privacy.grant_purpose('smith_masked', 'marketing');
SELECT privacy.grant_purpose('smith_crm', 'marketing');
SELECT privacy.grant_purpose('smith_crm', 'billing');
SELECT privacy.grant_purpose('smith_super', 'marketing');
CREATE TABLE customers (customer_id text PRIMARY KEY, name text, email privacy.encrypted_text_det('hr'),
                        card privacy.encrypted_text('pay'));
INSERT INTO customers SELECT 'c' || g, 'Customer ' || g, 'c' || g || '@example.com', '4111 1111 1111 ' || lpad(g::text, 4, '0')
  FROM generate_series(1, 300) g;
CREATE INDEX customers_email ON customers (email);
SELECT privacy.protect_table('customers', subject_column => 'customer_id');
CREATE TABLE orders (order_id int PRIMARY KEY, customer_id text REFERENCES customers, item text);
INSERT INTO orders SELECT g, 'c' || (1 + g % 300), 'item ' || g FROM generate_series(1, 600) g;
SELECT privacy.protect_table('orders', subject_column => 'customer_id');
SELECT privacy.grant_consent('c' || g, 'marketing') FROM generate_series(1, 300, 2) g;
SELECT privacy.grant_consent('c' || g, 'marketing.email', expires_at => now() + interval '1 day',
                             evidence => '{"form": "signup-v3"}') FROM generate_series(2, 300, 3) g;
SELECT privacy.withdraw_consent('c' || g, 'marketing') FROM generate_series(1, 300, 10) g;
SELECT privacy.set_policy_version('2026-11', requires_reconsent => false);
GRANT SELECT ON customers, orders TO smith_masked, smith_crm;

-- Classification, a data-subject request of each kind, audit rows.
SELECT privacy.classify('staff', 'ssn', 'sensitive', category => 'national_id');
SELECT privacy.classify('customers', 'card', 'sensitive', category => 'payment');
SELECT privacy.export_subject('c3');
SELECT privacy.erase_subject('c299');

ANALYZE;
