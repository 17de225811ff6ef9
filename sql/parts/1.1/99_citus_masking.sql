-- Citus: the declared purpose reaches the nodes of the shards
-- (src/citus/purpose_marker.c).  On a Citus coordinator, each query level
-- that asks for consent (a protected table's policy, a masking view's
-- filter) gets one more condition, privacy.shard_purpose(subject, purpose),
-- carrying the purpose declared when it was planned; Citus sends it to the
-- shards with the query, and there every has_consent(subject) of that
-- query is evaluated for that purpose.  It only ever returns true: the
-- filtering stays has_consent's, which checks that the role may use the
-- purpose, so writing a marker by hand gives nothing SET privacy.purpose
-- would not.  Without Citus nothing adds or reads markers.
CREATE FUNCTION privacy.shard_purpose(subject anyelement, purpose text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'px_shard_purpose' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION privacy.shard_purpose(anyelement, text) IS
    'Citus: the purpose a query was planned for on the coordinator (always true; read by the nodes of the shards).';
