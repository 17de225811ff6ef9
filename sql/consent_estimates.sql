-- The planner's statistics of a consent-protected table describe every
-- row, unconsented subjects' rows among them: a query the consent policy
-- filters is planned without them, so its estimates (EXPLAIN's rows=) do
-- not tell how common a value is among rows the role may not see.  The
-- owner, whom the policy does not filter, keeps them.
SELECT privacy.create_purpose('ce_marketing', legal_basis => 'consent');
CREATE ROLE regress_ce_app;
SELECT privacy.grant_purpose('regress_ce_app', 'ce_marketing');
CREATE TABLE ce_patients (subject text PRIMARY KEY, diagnosis text);
CREATE INDEX ce_patients_lower ON ce_patients (lower(diagnosis));
INSERT INTO ce_patients VALUES ('p-1', 'flu');
INSERT INTO ce_patients SELECT 'p-' || g, CASE WHEN g <= 400 THEN 'HIV' ELSE 'diabetes' END
  FROM generate_series(2, 1000) g;
GRANT SELECT ON ce_patients TO regress_ce_app;
SELECT privacy.protect_table('ce_patients', subject_column => 'subject');
SELECT privacy.grant_consent('p-1', 'ce_marketing');
ANALYZE ce_patients;
-- the planner's estimate of a query's rows, as its caller plans it
CREATE FUNCTION ce_estimate(query text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::int;
END $$;

-- the owner: the statistics count the 400 rows of HIV
SELECT ce_estimate($$SELECT 1 FROM ce_patients WHERE diagnosis = 'HIV'$$) BETWEEN 390 AND 410 AS owner_sees_frequency;

SET ROLE regress_ce_app;
SET privacy.purpose = 'ce_marketing';
SELECT * FROM ce_patients;
-- the same estimate for a frequent value, a rare one and an absent one,
-- through the column and through an expression index
SELECT ce_estimate($$SELECT 1 FROM ce_patients WHERE diagnosis = 'HIV'$$) AS hiv,
       ce_estimate($$SELECT 1 FROM ce_patients WHERE diagnosis = 'diabetes'$$) AS diabetes,
       ce_estimate($$SELECT 1 FROM ce_patients WHERE diagnosis = 'cancer'$$) AS cancer,
       ce_estimate($$SELECT 1 FROM ce_patients WHERE lower(diagnosis) = 'hiv'$$)
         = ce_estimate($$SELECT 1 FROM ce_patients WHERE lower(diagnosis) = 'cancer'$$) AS index_same,
       ce_estimate($$SELECT 1 FROM ce_patients WHERE diagnosis < 'E'$$)
         = ce_estimate($$SELECT 1 FROM ce_patients WHERE diagnosis < 'Z'$$) AS histogram_same;
RESET privacy.purpose;
RESET ROLE;

DROP FUNCTION ce_estimate(text);
DROP TABLE ce_patients;
DELETE FROM privacy.protected_tables;
DELETE FROM privacy.consent_state WHERE purpose = 'ce_marketing';
DELETE FROM privacy.purpose_grants WHERE purpose = 'ce_marketing';
DELETE FROM privacy.purposes WHERE name = 'ce_marketing';
DROP OWNED BY regress_ce_app;
DROP ROLE regress_ce_app;
