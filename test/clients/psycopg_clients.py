"""psycopg2 and psycopg 3 against privacy_ext, with each driver's own ways
of binding: client-side interpolation (psycopg2, psycopg 3's ClientCursor),
server-side binding (psycopg 3's default), binary parameters and results
(%b, binary=True), and COPY.  Prints one "ok - ..." / "not ok - ..." line
per check; test/t/012_clients.pl runs it.

    python3 psycopg_clients.py PORT DATABASE
"""
import sys

import psycopg
import psycopg2

PORT, DB = sys.argv[1], sys.argv[2]
failures = 0


def check(ok, what):
    global failures
    print(("ok - " if ok else "not ok - ") + what, flush=True)
    if not ok:
        failures += 1


def state2(conn, sql, params=()):
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
        return "none"
    except psycopg2.Error as e:
        conn.rollback()
        return e.pgcode


def state3(conn, sql, params=(), binary=False):
    try:
        conn.execute(sql, params, binary=binary)
        return "none"
    except psycopg.Error as e:
        conn.rollback()
        return e.sqlstate


def errors(label, state, app, other, envelope):
    tampered = envelope[:-3] + ("A" if envelope[-3] != "A" else "B") + envelope[-2:]
    s = state(other, "SELECT privacy.decrypt(ssn) FROM cl_people WHERE id = 1")
    check(s == "42501", f"{label}: no grant for the key: 42501 (got {s})")
    s = state(app, "SELECT privacy.decrypt(%s::privacy.encrypted_text)", (tampered,))
    check(s == "PXA01", f"{label}: a tampered envelope: PXA01 (got {s})")
    s = state(app, "SELECT privacy.encrypt(%s, %s)", ("x", "cl_nosuchkey"))
    check(s == "PXK01", f"{label}: an unknown key: PXK01 (got {s})")
    s = state(app, "SELECT set_config('privacy.purpose', %s, false)", ("cl_nosuchpurpose",))
    check(s == "42704", f"{label}: an unknown purpose: 42704 (got {s})")
    s = state(other, "SELECT set_config('privacy.purpose', %s, false)", ("cl_marketing",))
    check(s == "42501", f"{label}: a purpose not granted: 42501 (got {s})")


# ---- psycopg2: client-side interpolation (values arrive as literals)
dsn = f"host=127.0.0.1 port={PORT} dbname={DB}"
app = psycopg2.connect(dsn + " user=cl_app")
app.autocommit = True
other = psycopg2.connect(dsn + " user=cl_other")
other.autocommit = True
with app.cursor() as cur:
    cur.execute("INSERT INTO cl_people (id, ssn, email, doc) VALUES (%s, %s, %s, %s)",
                (201, "PG2-SSN-201", "pg2-201@example.com", psycopg2.Binary(b"\x01\xff")))
    cur.executemany("INSERT INTO cl_people (id, ssn, email, doc) VALUES (%s, %s, %s, %s)",
                    [(i, f"PG2-SSN-{i}", f"pg2-{i}@example.com", psycopg2.Binary(bytes([i % 256])))
                     for i in range(202, 252)])
    cur.execute("SELECT count(*) FROM cl_people WHERE id BETWEEN 201 AND 251")
    check(cur.fetchone()[0] == 51, "psycopg2: execute and executemany into every encrypted type")
    # one seal per value: interpolated literals are sealed once, under the
    # column's key, nothing opened (privacy.crypto_counters() per backend)
    cur.execute("SELECT seals, opens FROM privacy.crypto_counters()")
    seals0, opens0 = cur.fetchone()
    cur.execute("INSERT INTO cl_people (id, ssn, email, doc) VALUES (%s, %s, %s, %s)",
                (252, "PG2-SSN-252", "pg2-252@example.com", psycopg2.Binary(b"\x02\x52")))
    cur.execute("SELECT seals - %s, opens - %s FROM privacy.crypto_counters()", (seals0, opens0))
    check(cur.fetchone() == (3, 0), "psycopg2: three literals into encrypted columns, three seals, no opens")
    cur.execute("SELECT id FROM cl_people WHERE email = %s", ("pg2-230@example.com",))
    check(cur.fetchall() == [(230,)], "psycopg2: deterministic lookup")
    cur.execute("SET enable_seqscan = off")
    cur.execute("EXPLAIN SELECT id FROM cl_people WHERE email = %s", ("pg2-230@example.com",))
    plan = "\n".join(r[0] for r in cur.fetchall())
    cur.execute("RESET enable_seqscan")
    check("Index" in plan and "pg2-230" not in plan, "psycopg2: the lookup uses the index, no plaintext in the plan")
    cur.execute("SELECT privacy.decrypt(ssn), privacy.decrypt(email), privacy.decrypt(doc) FROM cl_people WHERE id = %s",
                (201,))
    row = cur.fetchone()
    check(row[0] == "PG2-SSN-201" and row[1] == "pg2-201@example.com" and bytes(row[2]) == b"\x01\xff",
          "psycopg2: decrypt of text, det and bytea")
    # COPY in (text format: the input function encrypts) and out (envelopes)
    import io
    buf = io.StringIO("".join(f"{i}\tPG2-COPY-{i}\tpg2copy{i}@example.com\t\\\\x0{i % 10}\n" for i in range(300, 320)))
    cur.copy_expert("COPY cl_people (id, ssn, email, doc) FROM STDIN", buf)
    cur.execute("SELECT count(*) FROM cl_people WHERE privacy.decrypt(ssn) LIKE 'PG2-COPY-%%'")
    check(cur.fetchone()[0] == 20, "psycopg2: COPY FROM STDIN encrypts")
    out = io.StringIO()
    cur.copy_expert("COPY (SELECT ssn FROM cl_people WHERE id >= 300 AND id < 320) TO STDOUT", out)
    text = out.getvalue()
    check(text.count("pxe1:") == 20 and "PG2-COPY" not in text, "psycopg2: COPY TO STDOUT gives envelopes")
    cur.execute("SELECT ssn::text FROM cl_people WHERE id = 210")
    check(cur.fetchone()[0] == "PG2-SSN-210", "psycopg2: the text cast decrypts")
    cur.execute("SELECT format('%s', ssn) FROM cl_people WHERE id = 5")
    envelope = cur.fetchone()[0]
errors("psycopg2", state2, app, other, envelope)
app.close()
other.close()

# ---- psycopg 3: server-side binding (default), ClientCursor, binary, COPY
conninfo = f"host=127.0.0.1 port={PORT} dbname={DB}"
app = psycopg.connect(conninfo + " user=cl_app", autocommit=True)
other = psycopg.connect(conninfo + " user=cl_other", autocommit=True)
with app.cursor() as cur:
    cur.execute("INSERT INTO cl_people (id, ssn, email, doc) VALUES (%s, %s, %s, %s)",
                (401, "PG3-SSN-401", "pg3-401@example.com", b"\x04\x01"))
    cur.executemany("INSERT INTO cl_people (id, ssn, email, doc) VALUES (%s, %s, %s, %s)",
                    [(i, f"PG3-SSN-{i}", f"pg3-{i}@example.com", bytes([i % 256])) for i in range(402, 452)])
    # one seal per value: text-typed parameters are sealed once, under the
    # column's key, nothing opened (privacy.crypto_counters() per backend)
    cur.execute("SELECT seals, opens FROM privacy.crypto_counters()")
    seals0, opens0 = cur.fetchone()
    cur.execute("INSERT INTO cl_people (id, ssn, email, doc) VALUES (%s, %s, %s, %s)",
                (453, "PG3-SSN-453", "pg3-453@example.com", b"\x04\x53"))
    cur.execute("SELECT seals - %s, opens - %s FROM privacy.crypto_counters()", (seals0, opens0))
    got = cur.fetchone()
    check(got == (3, 0), f"psycopg 3: three untyped parameters into encrypted columns, three seals, no opens (got {got})")
    # binary parameters: strings typed text, bytes typed bytea
    cur.execute("INSERT INTO cl_people (id, ssn, email, doc) VALUES (%b, %b, %b, %b)",
                (452, "PG3-SSN-452", "pg3-452@example.com", b"\x04\x52"))
    cur.execute("SELECT count(*) FROM cl_people WHERE id BETWEEN 401 AND 452")
    check(cur.fetchone()[0] == 52, "psycopg 3: server-side and binary (%b) parameters into every encrypted type")
    found = True
    for i in range(401, 453, 5):
        cur.execute("SELECT id FROM cl_people WHERE email = %s", (f"pg3-{i}@example.com",))
        found &= cur.fetchall() == [(i,)]
        cur.execute("SELECT id FROM cl_people WHERE email = %b", (f"pg3-{i}@example.com",))
        found &= cur.fetchall() == [(i,)]
        cur.execute("SELECT id FROM cl_people WHERE email = %s", (f"pg3-{i}@example.com",), prepare=True)
        found &= cur.fetchall() == [(i,)]
    check(found, "psycopg 3: deterministic lookups with server-side, binary (text-typed) and prepared parameters")
    cur.execute("SET enable_seqscan = off")
    cur.execute("EXPLAIN SELECT id FROM cl_people WHERE email = %b", ("pg3-410@example.com",))
    plan = "\n".join(r[0] for r in cur.fetchall())
    cur.execute("RESET enable_seqscan")
    check("Index" in plan and "pg3-410" not in plan, "psycopg 3: the binary-parameter lookup uses the index, no plaintext in the plan")
    cur.execute("SELECT privacy.decrypt(ssn), privacy.decrypt(email), privacy.decrypt(doc) FROM cl_people WHERE id = %s",
                (452,), binary=True)
    row = cur.fetchone()
    check(row == ("PG3-SSN-452", "pg3-452@example.com", b"\x04\x52"), "psycopg 3: decrypt with binary results")
    cur.execute("SELECT ssn FROM cl_people WHERE id = %s", (452,), binary=True)
    raw = cur.fetchone()[0]
    raw = bytes(raw) if isinstance(raw, (bytes, bytearray, memoryview)) else b""
    check(len(raw) > 38 and b"PG3-SSN" not in raw,
          "psycopg 3: a binary result of an encrypted column is the raw envelope")
    with cur.copy("COPY cl_people (id, ssn, email) FROM STDIN") as copy:
        for i in range(500, 520):
            copy.write_row((i, f"PG3-COPY-{i}", f"pg3copy{i}@example.com"))
    cur.execute("SELECT count(*) FROM cl_people WHERE privacy.decrypt(ssn) LIKE 'PG3-COPY-%'")
    check(cur.fetchone()[0] == 20, "psycopg 3: COPY FROM STDIN (write_row) encrypts")
    with cur.copy("COPY (SELECT ssn, email FROM cl_people WHERE id >= 500 AND id < 520) TO STDOUT") as copy:
        data = b"".join(bytes(b) for b in copy)
    check(data.count(b"pxe1:") >= 20 and b"PG3-COPY" not in data and b"pg3copy" not in data,
          "psycopg 3: COPY TO STDOUT gives envelopes")
with psycopg.ClientCursor(app) as cur:
    cur.execute("SELECT id FROM cl_people WHERE email = %s", ("pg3-420@example.com",))
    check(cur.fetchall() == [(420,)], "psycopg 3: ClientCursor (client-side binding) lookup")
    cur.execute("SELECT format('%s', ssn) FROM cl_people WHERE id = 5")
    envelope = cur.fetchone()[0]
errors("psycopg 3", state3, app, other, envelope)
s = state3(app, "SELECT privacy.decrypt(%b::privacy.encrypted_text)", ("not an envelope",))
check(s == "PXK04", f"psycopg 3: a binary text parameter cast to the type is plaintext, not bound to a key: PXK04 (got {s})")
app.close()
other.close()

print(f"psycopg: {failures} failures")
sys.exit(1 if failures else 0)
