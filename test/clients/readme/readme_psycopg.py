import os
import psycopg

with psycopg.connect(os.environ.get("DSN", "dbname=app user=payroll_app")) as conn:
    conn.execute("INSERT INTO people (id, email, ssn) VALUES (%s, %s, %s)",
                 (2, "bob@example.com", "987-65-4321"))       # encrypted by the column's type
    with conn.transaction():
        conn.execute("SET LOCAL privacy.purpose = 'support'")   # for this transaction only
        row = conn.execute("SELECT id, privacy.decrypt(ssn) FROM people WHERE email = %b",
                           ("bob@example.com",)).fetchone()     # binary text parameter: fine
    print(row[0], row[1])
