#!/usr/bin/env python3
"""Bad-input sweep: every function and procedure of the extension called, as a
superuser and as an unprivileged role, with each argument in turn replaced by
NULL, '', a 1 MB string, multibyte text, unknown names, malformed envelopes,
and extreme numbers.  Prints one line per call: role, function, argument,
case, SQLSTATE (or OK / OK-NULL), and flags suspicious outcomes.

  PGHOST=... PGPORT=... /usr/bin/python3 test/sweep/bad_input_sweep.py [RESULTS.tsv]

Each call runs in its own transaction, rolled back, with statement_timeout
10s and lock_timeout 2s; functions that refuse a transaction block
(destroy_key, drop_key_version) answer 25001 once past their argument
checks, so their destructive paths were checked by hand, outside a transaction.
"""
import sys
import psycopg

SECRET = 'SWEEP-SECRET-PLAINTEXT-4242'
conn = None


def connect():
    global conn
    conn = psycopg.connect(dbname='postgres', user='postgres', autocommit=False)
    return conn


FIXTURE = f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sweep_user') THEN CREATE ROLE sweep_user; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sweep_r1') THEN CREATE ROLE sweep_r1; END IF;
END $$;
SELECT privacy.create_key('k1') WHERE NOT EXISTS (SELECT FROM privacy.keys WHERE name = 'k1');
SELECT privacy.create_purpose('p1', legal_basis => 'consent')
  WHERE NOT EXISTS (SELECT FROM privacy.purposes WHERE name = 'p1');
CREATE TABLE IF NOT EXISTS public.t (id int PRIMARY KEY, c text, s text,
   e privacy.encrypted_text('k1'), d privacy.encrypted_text_det('k1'), b privacy.encrypted_bytea('k1'), j jsonb, n int);
INSERT INTO public.t VALUES (1, 'x', 's1', '{SECRET}', '{SECRET}', '\\x01', '{{"a":1}}', 5) ON CONFLICT DO NOTHING;
GRANT USAGE ON SCHEMA privacy TO sweep_user;
"""

ENV = {}


def lit(s):
    return "'" + s.replace("'", "''") + "'"


def setup():
    c = connect()
    with c.cursor() as cur:
        cur.execute(FIXTURE)
        cur.execute("SELECT privacy.encrypted_text_out(e)::text, privacy.encrypted_text_det_out(d)::text, privacy.encrypted_bytea_out(b)::text FROM public.t WHERE id = 1")
        ENV['env_text'], ENV['env_det'], ENV['env_bytea'] = cur.fetchone()
    c.commit()


def funcs():
    with conn.cursor() as cur:
        cur.execute("""
        SELECT p.oid, p.oid::regprocedure::text, p.prokind, p.proname, n.nspname,
               p.proargtypes::oid[], p.proargnames, p.proargmodes,
               (SELECT array_agg(format_type(t, NULL)) FROM unnest(p.proargtypes::oid[]) t),
               p.prorettype = 'trigger'::regtype OR p.prorettype = 'event_trigger'::regtype
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'privacy_ext'
        ORDER BY 2""")
        rows = cur.fetchall()
    conn.rollback()
    return rows


def in_names(names, modes, n):
    if not names:
        return [''] * n
    if not modes:
        return list(names[:n]) + [''] * (n - len(names[:n]))
    out = [nm for nm, m in zip(names, modes) if m in ('i', 'b', 'v')]
    return out + [''] * (n - len(out))


def baseline(tname, aname):
    a = aname.lower()
    if tname in ('text', 'name', 'character varying'):
        if 'key' in a:
            return "'k1'"
        if 'role' in a or a in ('owner',):
            return "'sweep_r1'"
        if 'purpose' in a:
            return "'p1'"
        if a in ('tbl', 'table_name', 'rel', 'relation', 'table'):
            return "'public.t'"
        if a in ('col', 'column_name', 'subject_column') or 'column' in a:
            return "'c'"
        if 'subject' in a:
            return "'s1'"
        if a == 'rule':
            return "'partial(1, ''*'', 1)'"
        if a == 'kind':
            return "'email'"
        if a == 'format':
            return "'html'"
        if a == 'level':
            return "'sensitive'"
        if a == 'on_erase':
            return "'delete'"
        if a in ('parent', 'policy_version', 'p_policy_version'):
            return 'NULL::text'
        if a == 'legal_basis':
            return "'consent'"
        if a == 'unit' or a == 'step':
            return "'year'"
        return "'x'"
    if tname == 'regclass':
        return "'public.t'::regclass"
    if tname in ('integer', 'bigint', 'smallint'):
        return '1'
    if tname in ('double precision', 'numeric', 'real'):
        return '0.5'
    if tname == 'boolean':
        return 'false'
    if tname == 'oid':
        return "'public.t'::regclass::oid"
    if tname == 'regtype':
        return "'text'::regtype"
    if tname == 'jsonb':
        return "'{}'::jsonb"
    if tname.startswith('timestamp'):
        return 'now()'
    if tname == 'date':
        return 'current_date'
    if tname == 'uuid':
        return "'00000000-0000-0000-0000-000000000001'::uuid"
    if tname == 'privacy.encrypted_text':
        return "(SELECT e FROM public.t WHERE id = 1)"
    if tname == 'privacy.encrypted_text_det':
        return "(SELECT d FROM public.t WHERE id = 1)"
    if tname == 'privacy.encrypted_bytea':
        return "(SELECT b FROM public.t WHERE id = 1)"
    if tname == 'privacy.encrypted_input':
        return "'x'::privacy.encrypted_input"
    if tname == 'bytea':
        return "'\\x01'::bytea"
    if tname == 'anyelement':
        return "'x'::text"
    if tname.endswith('[]'):
        if tname.startswith('text') or tname.startswith('name'):
            return "ARRAY['c']::" + tname
        if tname.startswith('smallint'):
            return "ARRAY[2]::smallint[]"
        if tname.startswith('bigint'):
            return "ARRAY[1]::bigint[]"
        return 'NULL::' + tname
    if tname == 'cstring':
        return "'x'::cstring"
    return 'NULL::' + tname


BIG = "repeat('x', 1048576)"
MB = "'é日本🙂'"


def bad_values(tname):
    vals = [('NULL', 'NULL::' + tname)]
    if tname in ('text', 'name', 'character varying', 'cstring'):
        vals += [('empty', "''::" + tname), ('1MB', BIG + '::' + tname), ('multibyte', MB + '::' + tname),
                 ('unknown', "'no_such_thing'::" + tname), ('pxe1garbage', "'pxe1:garbage'::" + tname)]
        env = ENV['env_text']
        vals += [('trunc_env', lit(env[:len(env) // 2]) + '::' + tname)]
        vals += [('envelope', lit(env) + '::' + tname)]
    elif tname in ('integer', 'smallint', 'bigint', 'oid'):
        vals += [('zero', '0::' + tname), ('neg', '(-1)::' + tname if tname != 'oid' else "4294967295::oid")]
        huge = {'integer': '2147483647', 'smallint': '32767', 'bigint': '9223372036854775807', 'oid': '4294967294'}
        vals += [('huge', huge[tname] + '::' + tname)]
        if tname != 'oid':
            low = {'integer': '(-2147483648)', 'smallint': '(-32768)', 'bigint': '(-9223372036854775808)'}
            vals += [('min', low[tname] + '::' + tname)]
    elif tname in ('double precision', 'numeric', 'real'):
        vals += [('zero', '0::' + tname), ('neg', '(-1)::' + tname), ('huge', "'1e300'::" + tname if tname != 'real' else "'1e38'::real"),
                 ('nan', "'NaN'::" + tname)]
        if tname != 'numeric':
            vals += [('inf', "'Infinity'::" + tname), ('-inf', "'-Infinity'::" + tname)]
        else:
            vals += [('inf', "'Infinity'::numeric"), ('bigneg', "'-1e1000'::numeric")]
    elif tname == 'regclass':
        vals += [('zero', '0::regclass'), ('unknown', '999999999::regclass'), ('catalog', "'pg_class'::regclass"),
                 ('index', "'t_pkey'::regclass"), ('seq', "'pg_toast.pg_toast_1255'::regclass")]
    elif tname == 'regtype':
        vals += [('zero', '0::regtype'), ('unknown', '999999999::regtype'), ('int4', "'int4'::regtype")]
    elif tname == 'jsonb':
        vals += [('null', "'null'::jsonb"), ('array', "'[]'::jsonb"), ('num', "'1'::jsonb"), ('1MB', "to_jsonb(" + BIG + ")"),
                 ('deep', "repeat('[', 5000)::text || repeat(']', 5000)")]
        vals[-1] = ('deep', "(repeat('[', 5000) || repeat(']', 5000))::jsonb")
    elif tname.startswith('timestamp') or tname == 'date':
        vals += [('inf', "'infinity'::" + tname), ('-inf', "'-infinity'::" + tname)]
    elif tname in ('privacy.encrypted_text', 'privacy.encrypted_text_det', 'privacy.encrypted_bytea'):
        env = {'privacy.encrypted_text': ENV['env_text'], 'privacy.encrypted_text_det': ENV['env_det'],
               'privacy.encrypted_bytea': ENV['env_bytea']}[tname]
        vals += [('pxe1garbage', "'pxe1:garbage'::" + tname), ('trunc_env', lit(env[:len(env) - 4]) + '::' + tname),
                 ('other_type_env', lit(ENV['env_det'] if tname != 'privacy.encrypted_text_det' else ENV['env_text']) + '::' + tname),
                 ('recv_short', tname + "_recv_probe")]
        vals.pop()
        vals += [('bin_short', "'\\x0102'::bytea::text::" + tname)]
    elif tname == 'bytea':
        vals += [('empty', "''::bytea"), ('1MB', "convert_to(" + BIG + ", 'UTF8')")]
    elif tname == 'anyelement':
        vals += [('int', '1'), ('empty', "''::text"), ('1MB', BIG), ('multibyte', MB + '::text')]
    elif tname.endswith('[]'):
        vals += [('empty', "'{}'::" + tname), ('nullelem', "'{NULL}'::" + tname)]
        if tname.startswith('text') or tname.startswith('name'):
            vals += [('unknown', "ARRAY['no_such_col']::" + tname), ('multibyte', 'ARRAY[' + MB + ']::' + tname)]
    return vals


SKIP = {'pg_catalog.pg_terminate_backend'}


def run(sql, role):
    """Returns (status, message, result)."""
    global conn
    try:
        with conn.cursor() as cur:
            cur.execute("SET LOCAL statement_timeout = '10s'")
            cur.execute("SET LOCAL lock_timeout = '2s'")
            if role != 'postgres':
                cur.execute("SET LOCAL ROLE " + role)
            cur.execute(sql)
            try:
                r = cur.fetchone()
            except psycopg.ProgrammingError:
                r = None
        conn.rollback()
        res = None if r is None else r[0]
        return ('OK-NULL' if res is None else 'OK'), '', res
    except psycopg.errors.QueryCanceled as e:
        conn.rollback()
        return '57014', str(e.diag.message_primary), None
    except psycopg.OperationalError as e:
        if e.sqlstate and not conn.broken:
            conn.rollback()
            return e.sqlstate, (e.diag.message_primary or '') + ' | ' + (e.diag.message_detail or '') + ' | ' + (e.diag.message_hint or ''), None
        try:
            conn.close()
        except Exception:
            pass
        import time
        for _ in range(60):
            try:
                connect()
                break
            except Exception:
                time.sleep(1)
        return 'CONNLOST', str(e), None
    except psycopg.Error as e:
        try:
            conn.rollback()
        except Exception:
            connect()
        return (e.sqlstate or '?'), (e.diag.message_primary or '') + ' | ' + (e.diag.message_detail or '') + ' | ' + (e.diag.message_hint or ''), None


def main():
    setup()
    rows = funcs()
    total = 0
    flagged = []
    out = open(sys.argv[1] if len(sys.argv) > 1 else '/tmp/sweep_results.tsv', 'w')
    for (oid, sig, kind, pname, nsp, argtypes, names, modes, tnames, is_trig) in rows:
        tnames = tnames or []
        anames = in_names(names, modes, len(tnames))
        base = [baseline(t, a) for t, a in zip(tnames, anames)]
        qn = f'{nsp}.{pname}'
        cases = [('-', 'baseline', list(base))]
        for i, t in enumerate(tnames):
            for cname, v in bad_values(t):
                args = list(base)
                args[i] = v
                cases.append((anames[i] or f'${i + 1}', cname, args))
        for role in ('postgres', 'sweep_user'):
            for (argname, cname, args) in cases:
                arglist = ', '.join(args)
                if kind == 'p':
                    sql = f'CALL {qn}({arglist})'
                else:
                    sql = f'SELECT {qn}({arglist})::text'
                    # set-returning: take first row
                    sql = f'SELECT ({qn}({arglist}))::text LIMIT 1'
                st, msg, res = run(sql, role)
                total += 1
                flag = ''
                low = (msg or '').lower()
                if st in ('CONNLOST', 'XX000', 'XX001', 'XX002') or 'cache lookup' in low or 'assert' in low \
                        or 'unexpected' in low or 'internal error' in low or 'unrecognized' in low:
                    flag = 'BAD'
                if SECRET in (msg or '') or SECRET in str(res or ''):
                    if not (cname == 'baseline' and role == 'postgres'):
                        flag += 'PLAINTEXT'
                if st == '57014':
                    flag += 'TIMEOUT'
                line = '\t'.join([role, sig, argname, cname, st, flag, (msg or '').replace('\n', ' ')[:300],
                                  str(res)[:80].replace('\n', ' ')])
                out.write(line + '\n')
                out.flush()
                if flag:
                    flagged.append(line)
    print('calls', total, 'functions', len(rows))
    for f in flagged:
        print(f)


if __name__ == '__main__':
    main()
