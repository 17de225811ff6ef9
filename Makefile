# privacy_ext: PGXS build.  `make demo` and `make test` are the two entry
# points documented at the top of README.md.

EXTENSION   = privacy_ext
MODULE_big  = privacy_ext
# 1.0 is released and never edited.  Version 1.1 is built from the parts in
# sql/parts/1.1/ (one file per concern, applied in name order): the upgrade
# script is the parts, and a new install runs 1.0 followed by the parts, so
# an upgraded database and a fresh one are made by the same statements
# (test/t/010_upgrade.pl compares their catalogs).
DATA        = sql/privacy_ext--1.0.sql
DATA_built  = sql/privacy_ext--1.1.sql sql/privacy_ext--1.0--1.1.sql
UPGRADE_PARTS = $(sort $(wildcard sql/parts/1.1/*.sql))
PGFILEDESC  = "privacy_ext - encrypted columns, masking and consent"
# A root_key_command that fetches the root key from a KMIP server
# (README, "Root key from a KMIP server"), installed into the bindir.
SCRIPTS     = bin/privacy_ext_kmip_key

CORE_OBJS   = src/core/aead.o src/core/envelope.o src/core/keywrap.o src/core/siv.o \
              src/core/mask_algorithms.o src/core/rule_parser.o \
              src/core/dictionaries.o src/core/dict_data.o \
              src/core/fake.o src/core/json_path.o src/core/detect.o \
              src/core/ordered_keys.o
OBJS        = src/module.o \
              src/errors.o \
              src/catalog.o \
              src/admin.o \
              src/foreign_calls.o \
              src/statement.o \
              src/log_redact.o \
              src/config_refs.o \
              src/purpose_scope.o \
              src/keys/root_key.o \
              src/keys/key_store.o \
              src/keys/key_admin.o \
              src/keys/key_usage.o \
              src/keys/root_rotation.o \
              src/types/encrypted.o \
              src/types/det_ops.o \
              src/types/det_text_ops.o \
              src/types/det_lists.o \
              src/types/pending_literal.o \
              src/types/literal_binding.o \
              src/masking/functions.o \
              src/masking/rules.o \
              src/masking/static.o \
              src/masking/guard.o \
              src/masking/transparent.o \
              src/masking/views.o \
              src/masking/row_security.o \
              src/masking/fake.o \
              src/masking/jsonb_rule.o \
              src/consent/registry.o \
              src/consent/policy.o \
              src/consent/reading_roles.o \
              src/consent/subject_set.o \
              src/consent/subject_order.o \
              src/consent/watch.o \
              src/consent/record.o \
              src/consent/parallel.o \
              src/consent/parallel_run.o \
              src/consent/planner_stats.o \
              src/ddl_commands.o \
              src/audit/events.o \
              src/audit/counts.o \
              src/audit/relay.o \
              src/subjects.o \
              src/subject_match.o \
              src/roles/role_names.o \
              src/citus/dist_routing.o \
              src/citus/dist_insert_select.o \
              src/citus/dist_shards.o \
              src/citus/dist_update_consts.o \
              src/citus/dist_rewrite.o \
              src/citus/plan_nodes.o \
              src/discovery/recognise.o \
              src/discovery/group_size.o \
              src/citus/citus_presence.o \
              src/citus/sync_state.o \
              src/citus/sync_ship.o \
              src/citus/sync_apply.o \
              src/citus/shard_map.o \
              src/citus/shard_view.o \
              src/citus/shard_policies.o \
              src/citus/purpose_marker.o \
              $(CORE_OBJS)

PG_CPPFLAGS = -Isrc -Isrc/core
PG_CFLAGS   = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
SHLIB_LINK  = -lcrypto

# pg_regress suites, run by test/run_tests.sh against its throwaway cluster.
REGRESS      = keys encrypted_types permissions bad_input deterministic key_lifecycle masking_functions masking_views masking_nulls masking_versions role_switch_rows consent audit subjects inventory adversarial key_freshness consent_proof log_redaction masking_consent masking_ddl request_scope audit_accuracy mask_rule_memory client_types hardening single_seal masking_default transparent_masking masking_fake masking_jsonb static_masking root_rotation discovery k_anonymity report incident_report parallel_safety consent_ordered consent_cross_slots consent_composition masking_reach masking_row_security purpose_scope consent_ddl column_renames masking_plan_only consent_estimates masking_bpchar privileged_reads consent_reading_roles drop_version_reach masking_domains
REGRESS_OPTS = --outputdir=test/regress_out

# Isolation tests (concurrency), also run by `make installcheck`.
ISOLATION      = reencrypt key_cache consent_freshness consent_cache key_depths consent_depths rewrap_online consent_parallel create_key_race drop_version_wait purpose_tree_race registry_midstatement masked_role_cache
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation_out --load-extension=privacy_ext

# The PostgreSQL to build against: the first pg_config on PATH unless given,
# e.g. make PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config.
PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The shipped dictionaries (data/dict/, see SOURCES.md there), compiled in.
DICT_FILES = $(sort $(wildcard data/dict/*.txt))
src/core/dict_data.c: src/core/gen_dict_data.sh $(DICT_FILES)
	sh src/core/gen_dict_data.sh $@ $(DICT_FILES)

# PGXS does not track header dependencies: rebuild everything a header touches.
$(OBJS): $(wildcard src/*.h src/*/*.h)

# The folder too: its time changes when a part is removed or renamed,
# which the parts' own times do not show.
sql/privacy_ext--1.0--1.1.sql: $(UPGRADE_PARTS) sql/parts/1.1
	{ printf '%s\n' '/* privacy_ext 1.0 -> 1.1: generated from sql/parts/1.1/ */' '' \
	    '\echo Use "ALTER EXTENSION privacy_ext UPDATE TO '"'1.1'"'" to load this file. \quit'; \
	  for f in $(UPGRADE_PARTS); do printf '\n-- %s\n' "$$f"; cat "$$f"; done; } > $@

sql/privacy_ext--1.1.sql: sql/privacy_ext--1.0.sql sql/privacy_ext--1.0--1.1.sql
	{ printf '%s\n' '/* privacy_ext 1.1: generated from sql/privacy_ext--1.0.sql and sql/parts/1.1/ */'; \
	  cat $^; } > $@

.PHONY: demo test unit-test

demo:
	bash test/demo.sh

test:
	bash test/run_tests.sh

# Backend-free core unit tests (no server needed).
test/unit/test_core: test/unit/test_core.c $(CORE_OBJS:.o=.c) src/core/px_core.h src/core/px_block.h src/core/px_mask.h src/core/px_dict.h src/core/px_detect.h src/core/px_ordered.h
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror -Isrc/core -o $@ test/unit/test_core.c $(CORE_OBJS:.o=.c) -lcrypto -lm

unit-test: test/unit/test_core
	test/unit/test_core

# Fuzzing (libFuzzer, clang) and sanitizers for the backend-free core.
FUZZ_TARGETS = fuzz_armor fuzz_envelope fuzz_rule fuzz_mask fuzz_rule_roundtrip \
               fuzz_fake fuzz_json_path fuzz_detect \
               fuzz_gcm_diff fuzz_siv_diff fuzz_keywrap_diff
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc/core

test/fuzz/%: test/fuzz/%.c test/fuzz/fuzz_input.h $(CORE_OBJS:.o=.c) src/core/px_core.h src/core/px_block.h src/core/px_mask.h src/core/px_dict.h src/core/px_detect.h src/core/px_ordered.h
	clang $(FUZZ_CFLAGS) -o $@ $< $(CORE_OBJS:.o=.c) -lcrypto -lm

.PHONY: fuzz fuzz-smoke unit-asan
fuzz: $(addprefix test/fuzz/,$(FUZZ_TARGETS))
	for t in $(FUZZ_TARGETS); do mkdir -p test/fuzz/corpus/$$t && \
	    test/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) test/fuzz/corpus/$$t || exit 1; done

# A short run of each target, for make test.
fuzz-smoke: $(addprefix test/fuzz/,$(FUZZ_TARGETS))
	for t in $(FUZZ_TARGETS); do test/fuzz/$$t -runs=20000 -seed=1 >/dev/null 2>&1 || exit 1; done

# The core unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
test/unit/test_core_asan: test/unit/test_core.c $(CORE_OBJS:.o=.c) src/core/px_core.h src/core/px_block.h src/core/px_mask.h src/core/px_dict.h src/core/px_detect.h src/core/px_ordered.h
	clang -std=c99 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -Isrc/core -o $@ test/unit/test_core.c $(CORE_OBJS:.o=.c) -lcrypto -lm

unit-asan: test/unit/test_core_asan
	test/unit/test_core_asan

EXTRA_CLEAN = src/core/dict_data.c test/unit/test_core test/unit/test_core_asan $(addprefix test/fuzz/,$(FUZZ_TARGETS)) test/regress_out test/isolation_out tmp_check

.PHONY: bench
bench:
	bash test/bench/run_bench.sh

# The core's short-value GCM open and seal against EVP's, outside the server.
.PHONY: bench-core
test/bench/core_bench: test/bench/core_bench.c $(CORE_OBJS:.o=.c) src/core/px_core.h src/core/px_block.h
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror -Isrc/core -o $@ test/bench/core_bench.c $(CORE_OBJS:.o=.c) -lcrypto -lm
bench-core: test/bench/core_bench
	test/bench/core_bench

.PHONY: bench-ab
# Two builds side by side in alternation: the working tree against BASE.
BASE ?= HEAD~1
bench-ab:
	bash test/bench/ab_bench.sh $(BASE)

.PHONY: bench-consent
bench-consent:
	bash test/bench/consent_bench.sh

.PHONY: bench-detect
bench-detect:
	bash test/bench/detect_bench.sh
.PHONY: bench-growth
bench-growth:
	bash test/bench/growth_bench.sh

# Distributed (Citus, coordinator + 2 workers on this machine) against local
# tables; skipped without Citus.
.PHONY: bench-citus
bench-citus:
	bash test/bench/citus_bench.sh

.PHONY: load
load:
	bash test/load/run_load.sh

# make load's mix for SOAK_SECONDS (600) with key rotation, re-encryption
# and consent churn, then the crash points on a 1M-row table.
.PHONY: soak
soak:
	bash test/load/run_soak.sh

# Random SQL against a database with every feature in use, as a superuser
# and as a masked role, SQLSMITH_QUERIES (20000) queries each.
.PHONY: sqlsmith
sqlsmith:
	bash test/sqlsmith/run_sqlsmith.sh

# The Citus suite (test/citus): a coordinator and two workers on loopback;
# says it was skipped when Citus is not installed (make test runs it too).
.PHONY: test-citus
test-citus:
	bash test/citus/run_citus.sh

.PHONY: valgrind
valgrind:
	bash test/valgrind/run_regress_valgrind.sh

# Every suite against the extension built with AddressSanitizer (also run by make test).
.PHONY: asan
asan:
	bash test/asan/run_regress_asan.sh
