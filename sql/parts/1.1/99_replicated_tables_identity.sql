-- privacy.mask_rules is in privacy.replicated_tables() (78_replication.sql)
-- but has no primary key (a default rule's role_name is NULL, so its
-- unique key cannot be the replica identity): once published, PostgreSQL
-- refused every UPDATE and DELETE of it, and with them the extension's
-- own DDL bookkeeping (DROP TABLE, RENAME COLUMN) and set_mask/drop_mask.
-- Its whole row identifies it.
ALTER TABLE privacy.mask_rules REPLICA IDENTITY FULL;
