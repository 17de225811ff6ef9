-- Registry rows privacy_admin may write by hand are checked as they are
-- written: functions that superusers run act on what the rows name.
--   quasi_identifiers: the inventory and privacy.report() count each row's
--     relation as their reader; set_quasi_identifiers takes tables only,
--     with columns the caller may read, and so must a row written directly.
--   masking_views: mask_role grants a masked role each view and revokes
--     its table (masked_relations, which now reads only rows naming a view
--     of schema masked reading the table, masking_view_of); a row must
--     name such a view.
--   masked_roles.revoked: unmask_role gives the role SELECT back on each
--     table listed; only a direct SELECT grant the role holds when it is
--     listed (as mask_role lists it, before revoking it) may be.
-- A superuser's writes (pg_restore, the extension's own SECURITY DEFINER
-- code) are not checked: a restore writes revoked grants the role no
-- longer holds, and masking views may be restored after their rows.
CREATE FUNCTION privacy.registry_row_writer_trusted() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user
$$;

CREATE FUNCTION privacy.quasi_identifiers_check_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    qi name;
BEGIN
    IF privacy.registry_row_writer_trusted() THEN
        RETURN NEW;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = NEW.relid AND c.relkind IN ('r', 'p')) THEN
        RAISE EXCEPTION '"%" is not a table', NEW.relid USING ERRCODE = '42809',
            HINT = 'Quasi-identifiers are declared on tables, with privacy.set_quasi_identifiers().';
    END IF;
    FOREACH qi IN ARRAY NEW.columns LOOP
        IF qi IS NULL OR NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = NEW.relid
                                        AND a.attname = qi AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" of relation % does not exist', qi, NEW.relid USING ERRCODE = '42703';
        END IF;
        IF NOT has_column_privilege(NEW.relid, qi::text, 'SELECT') THEN
            RAISE EXCEPTION 'permission denied for column "%" of relation %', qi, NEW.relid USING ERRCODE = '42501';
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;
CREATE TRIGGER quasi_identifiers_check_row BEFORE INSERT OR UPDATE ON privacy.quasi_identifiers
    FOR EACH ROW EXECUTE FUNCTION privacy.quasi_identifiers_check_row();

CREATE FUNCTION privacy.masking_views_check_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF privacy.registry_row_writer_trusted() THEN
        RETURN NEW;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE c.oid = to_regclass(NEW.view_name) AND c.relkind = 'v' AND n.nspname = 'masked'
                      AND privacy.view_reads_table(c.oid, NEW.relid)) THEN
        RAISE EXCEPTION '% is not a masking view of %', NEW.view_name, NEW.relid USING ERRCODE = '42809',
            HINT = 'A masking view is a view of schema masked reading the table; privacy.create_masking_view() makes one.';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER masking_views_check_row BEFORE INSERT OR UPDATE ON privacy.masking_views
    FOR EACH ROW EXECUTE FUNCTION privacy.masking_views_check_row();

CREATE FUNCTION privacy.masked_roles_check_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rel regclass;
    listed regclass[] := CASE WHEN TG_OP = 'UPDATE' AND OLD.role_name = NEW.role_name
                              THEN OLD.revoked ELSE '{}' END;
BEGIN
    IF privacy.registry_row_writer_trusted() THEN
        RETURN NEW;
    END IF;
    FOREACH rel IN ARRAY NEW.revoked LOOP
        CONTINUE WHEN rel = ANY (listed);
        IF rel IS NULL OR NOT EXISTS (
               SELECT 1 FROM pg_class c, aclexplode(c.relacl) a
                WHERE c.oid = rel AND a.privilege_type = 'SELECT'
                  AND a.grantee = (SELECT r.oid FROM pg_roles r WHERE r.rolname = NEW.role_name)) THEN
            RAISE EXCEPTION 'role "%" holds no SELECT grant on % to give back', NEW.role_name, rel
                USING ERRCODE = '42501',
                      HINT = 'privacy.mask_role() lists the grants it takes away; unmask_role gives back only those.';
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;
CREATE TRIGGER masked_roles_check_row BEFORE INSERT OR UPDATE ON privacy.masked_roles
    FOR EACH ROW EXECUTE FUNCTION privacy.masked_roles_check_row();

REVOKE ALL ON FUNCTION privacy.quasi_identifiers_check_row(), privacy.masking_views_check_row(),
    privacy.masked_roles_check_row() FROM PUBLIC;
