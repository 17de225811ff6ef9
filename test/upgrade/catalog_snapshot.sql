-- A text listing of everything privacy_ext's script created in this
-- database: each member object of the extension with its definition, owner
-- and privileges (current and initial), and the extension's configuration
-- tables.  OIDs never appear, so two databases can be compared line by line.
-- Used by test/t/010_upgrade.pl: an upgraded 1.0 database and a fresh 1.1
-- install must give the same listing.
WITH ext AS (
    SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'privacy_ext'
), members AS (
    SELECT d.classid, d.objid, d.objsubid
      FROM pg_catalog.pg_depend d, ext
     WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.refobjid = ext.oid
       AND d.deptype = 'e'
), lines AS (
    -- identity of every member object
    SELECT 'member ' || i.type || ' ' || i.identity AS line
      FROM members m, LATERAL pg_catalog.pg_identify_object(m.classid, m.objid, m.objsubid) i
    UNION ALL
    -- functions: full definition, owner, privileges
    SELECT 'function ' || p.oid::regprocedure::text || E'\n' || pg_catalog.pg_get_functiondef(p.oid)
           || E'\nowner ' || p.proowner::regrole::text || ' acl ' || coalesce(p.proacl::text, '-')
      FROM members m JOIN pg_catalog.pg_proc p ON m.classid = 'pg_catalog.pg_proc'::regclass AND p.oid = m.objid
     WHERE p.prokind <> 'a'
    UNION ALL
    -- relations: kind, owner, privileges, row security, options
    SELECT 'relation ' || c.oid::regclass::text || ' kind ' || c.relkind::text || ' owner ' || c.relowner::regrole::text
           || ' acl ' || coalesce(c.relacl::text, '-') || ' rls ' || c.relrowsecurity || '/' || c.relforcerowsecurity
           || ' options ' || coalesce(c.reloptions::text, '-') || ' persistence ' || c.relpersistence::text
      FROM members m JOIN pg_catalog.pg_class c ON m.classid = 'pg_catalog.pg_class'::regclass AND c.oid = m.objid
    UNION ALL
    -- columns of member tables and views, in order
    SELECT 'column ' || c.oid::regclass::text || ' ' || a.attnum || ' ' || a.attname || ' '
           || pg_catalog.format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || coalesce(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')
           || coalesce(' collate ' || co.collname, '') || ' acl ' || coalesce(a.attacl::text, '-')
           || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
      FROM members m JOIN pg_catalog.pg_class c ON m.classid = 'pg_catalog.pg_class'::regclass AND c.oid = m.objid
      JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
      LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
                AND co.collname <> 'default'
    UNION ALL
    SELECT 'view ' || c.oid::regclass::text || E'\n' || pg_catalog.pg_get_viewdef(c.oid)
      FROM members m JOIN pg_catalog.pg_class c ON m.classid = 'pg_catalog.pg_class'::regclass AND c.oid = m.objid
     WHERE c.relkind::text IN ('v', 'm')
    UNION ALL
    SELECT 'constraint ' || con.conrelid::regclass::text || ' ' || con.conname || ' ' || pg_catalog.pg_get_constraintdef(con.oid)
      FROM members m JOIN pg_catalog.pg_constraint con ON m.classid = 'pg_catalog.pg_class'::regclass AND con.conrelid = m.objid
    UNION ALL
    SELECT 'index ' || pg_catalog.pg_get_indexdef(i.indexrelid)
      FROM members m JOIN pg_catalog.pg_index i ON m.classid = 'pg_catalog.pg_class'::regclass AND i.indrelid = m.objid
    UNION ALL
    SELECT 'trigger ' || pg_catalog.pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
      FROM members m JOIN pg_catalog.pg_trigger t ON m.classid = 'pg_catalog.pg_class'::regclass AND t.tgrelid = m.objid
     WHERE NOT t.tgisinternal
    UNION ALL
    SELECT 'policy ' || pol.polrelid::regclass::text || ' ' || pol.polname || ' ' || pol.polcmd::text || ' '
           || coalesce(pg_catalog.pg_get_expr(pol.polqual, pol.polrelid), '-') || ' '
           || coalesce(pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid), '-')
      FROM members m JOIN pg_catalog.pg_policy pol ON m.classid = 'pg_catalog.pg_class'::regclass AND pol.polrelid = m.objid
    UNION ALL
    SELECT 'type ' || t.oid::regtype::text || ' owner ' || t.typowner::regrole::text || ' acl ' || coalesce(t.typacl::text, '-')
           || ' in ' || t.typinput::text || ' out ' || t.typoutput::text || ' recv ' || t.typreceive::text
           || ' send ' || t.typsend::text || ' modin ' || t.typmodin::text || ' modout ' || t.typmodout::text
           || ' len ' || t.typlen || ' align ' || t.typalign::text || ' storage ' || t.typstorage::text
           || ' category ' || t.typcategory::text || ' collatable ' || (t.typcollation <> 0)
      FROM members m JOIN pg_catalog.pg_type t ON m.classid = 'pg_catalog.pg_type'::regclass AND t.oid = m.objid
    UNION ALL
    SELECT 'operator ' || o.oid::regoperator::text || ' code ' || o.oprcode::text || ' com ' || o.oprcom::regoperator::text
           || ' neg ' || o.oprnegate::regoperator::text || ' rest ' || o.oprrest::text || ' join ' || o.oprjoin::text
           || ' hashes ' || o.oprcanhash || ' merges ' || o.oprcanmerge || ' owner ' || o.oprowner::regrole::text
      FROM members m JOIN pg_catalog.pg_operator o ON m.classid = 'pg_catalog.pg_operator'::regclass AND o.oid = m.objid
    UNION ALL
    SELECT 'opfamily-member ' || f.opfname || ' ' || am.amname || ' op ' || ao.amopstrategy || ' '
           || ao.amopopr::regoperator::text || ' ' || ao.amoplefttype::regtype::text || ' ' || ao.amoprighttype::regtype::text
      FROM members m JOIN pg_catalog.pg_opfamily f ON m.classid = 'pg_catalog.pg_opfamily'::regclass AND f.oid = m.objid
      JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod
      JOIN pg_catalog.pg_amop ao ON ao.amopfamily = f.oid
    UNION ALL
    SELECT 'opfamily-proc ' || f.opfname || ' ' || am.amname || ' proc ' || ap.amprocnum || ' '
           || ap.amproc::regprocedure::text || ' ' || ap.amproclefttype::regtype::text || ' ' || ap.amprocrighttype::regtype::text
      FROM members m JOIN pg_catalog.pg_opfamily f ON m.classid = 'pg_catalog.pg_opfamily'::regclass AND f.oid = m.objid
      JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod
      JOIN pg_catalog.pg_amproc ap ON ap.amprocfamily = f.oid
    UNION ALL
    SELECT 'opclass ' || oc.opcname || ' ' || am.amname || ' for ' || oc.opcintype::regtype::text || ' default ' || oc.opcdefault
           || ' family ' || f.opfname
      FROM members m JOIN pg_catalog.pg_opclass oc ON m.classid = 'pg_catalog.pg_opclass'::regclass AND oc.oid = m.objid
      JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod
      JOIN pg_catalog.pg_opfamily f ON f.oid = oc.opcfamily
    UNION ALL
    SELECT 'cast ' || ca.castsource::regtype::text || ' -> ' || ca.casttarget::regtype::text || ' via '
           || coalesce(nullif(ca.castfunc, 0)::regprocedure::text, '-') || ' context ' || ca.castcontext::text || ' method ' || ca.castmethod::text
      FROM members m JOIN pg_catalog.pg_cast ca ON m.classid = 'pg_catalog.pg_cast'::regclass AND ca.oid = m.objid
    UNION ALL
    SELECT 'event trigger ' || e.evtname || ' on ' || e.evtevent || ' tags ' || coalesce(e.evttags::text, '-')
           || ' function ' || e.evtfoid::regprocedure::text || ' enabled ' || e.evtenabled::text || ' owner ' || e.evtowner::regrole::text
      FROM members m JOIN pg_catalog.pg_event_trigger e ON m.classid = 'pg_catalog.pg_event_trigger'::regclass AND e.oid = m.objid
    UNION ALL
    SELECT 'schema ' || n.nspname || ' owner ' || n.nspowner::regrole::text || ' acl ' || coalesce(n.nspacl::text, '-')
      FROM pg_catalog.pg_namespace n WHERE n.nspname IN ('privacy', 'masked')
    UNION ALL
    -- what pg_dump takes as the objects' initial privileges
    SELECT 'init-privs ' || i.type || ' ' || i.identity || ' ' || ip.privtype::text || ' ' || ip.initprivs::text
      FROM pg_catalog.pg_init_privs ip
      JOIN members m ON m.classid = ip.classoid AND m.objid = ip.objoid AND ip.objsubid = 0
      , LATERAL pg_catalog.pg_identify_object(ip.classoid, ip.objoid, 0) i
    UNION ALL
    SELECT 'init-privs-column ' || ip.objoid::regclass::text || ' ' || ip.objsubid || ' ' || ip.initprivs::text
      FROM pg_catalog.pg_init_privs ip
      JOIN members m ON m.classid = ip.classoid AND m.objid = ip.objoid
     WHERE ip.objsubid <> 0
    UNION ALL
    SELECT 'config ' || c::regclass::text || ' condition ' || coalesce(e.extcondition[i], '-')
      FROM pg_catalog.pg_extension e, LATERAL unnest(e.extconfig) WITH ORDINALITY AS u(c, i)
     WHERE e.extname = 'privacy_ext'
    UNION ALL
    SELECT 'extension ' || e.extname || ' version ' || e.extversion || ' schema ' || e.extnamespace::regnamespace::text
           || ' relocatable ' || e.extrelocatable || ' owner ' || e.extowner::regrole::text
      FROM pg_catalog.pg_extension e WHERE e.extname = 'privacy_ext'
)
SELECT line FROM lines ORDER BY line;
