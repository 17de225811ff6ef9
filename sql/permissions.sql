-- Who may do what: anyone who may INSERT can encrypt; only roles granted
-- the key (directly or through membership) or superusers can decrypt.
CREATE TABLE accounts (id int, card privacy.encrypted_text('pay'));
CREATE ROLE regress_px_signup;     -- write-only, like a sign-up form
CREATE ROLE regress_px_payroll;    -- granted the key directly
CREATE ROLE regress_px_team;       -- granted the key; has members
CREATE ROLE regress_px_member IN ROLE regress_px_team;
CREATE ROLE regress_px_noinherit NOINHERIT IN ROLE regress_px_team;
CREATE ROLE regress_px_snoop;      -- may read the table, not granted
GRANT INSERT ON accounts TO regress_px_signup;
GRANT SELECT ON accounts TO regress_px_payroll, regress_px_team, regress_px_snoop, regress_px_noinherit;
SELECT privacy.grant_key('pay', 'regress_px_payroll');
SELECT privacy.grant_key('pay', 'regress_px_team');

SET ROLE regress_px_signup;
INSERT INTO accounts VALUES (1, '4111-1111-1111-1111');
INSERT INTO accounts SELECT 2, '5500-0000-0000-0004'::text;
SELECT * FROM accounts;     -- no SELECT privilege at all
RESET ROLE;

SET ROLE regress_px_payroll;
SELECT id, privacy.decrypt(card) FROM accounts ORDER BY id;
RESET ROLE;

SET ROLE regress_px_member;   -- through membership
SELECT id, card::text FROM accounts ORDER BY id;
RESET ROLE;

SET ROLE regress_px_noinherit;   -- member without INHERIT has no privileges of the role
SELECT privacy.decrypt(card) FROM accounts;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- Every path to plaintext is closed for a role without the grant.
SET ROLE regress_px_snoop;
SELECT id, left(format('%s', card), 5) AS armor, format('%s', card) NOT LIKE '%1111%' AS no_plaintext
  FROM accounts ORDER BY id;       -- ciphertext is visible, plaintext is not
SELECT privacy.decrypt(card) FROM accounts;
\echo :LAST_ERROR_SQLSTATE
SELECT card::text FROM accounts;
\echo :LAST_ERROR_SQLSTATE
SELECT id FROM accounts WHERE privacy.decrypt(card) LIKE '4%';
\echo :LAST_ERROR_SQLSTATE
SELECT id FROM accounts WHERE card::text = '4111-1111-1111-1111';
\echo :LAST_ERROR_SQLSTATE
-- Moving the ciphertext to a key the role might hold is refused.
SELECT privacy.decrypt(card::privacy.encrypted_text('hr')) FROM accounts;
\echo :LAST_ERROR_SQLSTATE
-- Copying the envelope through its text form keeps it under its key.
SELECT privacy.decrypt(from_armor(privacy.encrypted_text_out(card)::text)) FROM accounts;
\echo :LAST_ERROR_SQLSTATE
-- Granting oneself the key is not possible.
SELECT privacy.grant_key('pay', 'regress_px_snoop');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO privacy.key_grants VALUES ((SELECT id FROM privacy.keys WHERE name = 'pay'), 'regress_px_snoop');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- A view owned by a granted role does not decrypt for its readers:
-- the check is made for the querying role.
CREATE VIEW accounts_clear AS SELECT id, privacy.decrypt(card) AS card FROM accounts;
ALTER VIEW accounts_clear OWNER TO regress_px_payroll;
GRANT SELECT ON accounts_clear TO regress_px_snoop;
SET ROLE regress_px_snoop;
SELECT * FROM accounts_clear;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_px_payroll;
SELECT * FROM accounts_clear ORDER BY id;
RESET ROLE;

-- A grant's effect is immediate; so is a revoke.
SELECT privacy.revoke_key('pay', 'regress_px_payroll');
SET ROLE regress_px_payroll;
SELECT privacy.decrypt(card) FROM accounts;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- A grant does not pass to a new role that takes a dropped grantee's name.
CREATE ROLE regress_px_transient;
SELECT privacy.grant_key('pay', 'regress_px_transient');
DROP ROLE regress_px_transient;
CREATE ROLE regress_px_transient;
GRANT SELECT ON accounts TO regress_px_transient;
SET ROLE regress_px_transient;
SELECT privacy.decrypt(card) FROM accounts;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP OWNED BY regress_px_transient;
DROP ROLE regress_px_transient;

-- Superusers may always decrypt.
SELECT id, privacy.decrypt(card) FROM accounts ORDER BY id;

DROP VIEW accounts_clear;
DROP TABLE accounts;
SELECT privacy.revoke_key('pay', 'regress_px_team');
DROP ROLE regress_px_signup, regress_px_payroll, regress_px_member, regress_px_noinherit,
          regress_px_team, regress_px_snoop;
