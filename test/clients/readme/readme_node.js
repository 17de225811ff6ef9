const { Client } = require('pg');

async function main() {
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  await client.query('INSERT INTO people (id, email, ssn) VALUES ($1, $2, $3)',
                     [3, 'cy@example.com', '555-01-0003']);     // encrypted by the column's type
  const res = await client.query('SELECT id, privacy.decrypt(ssn) AS ssn FROM people WHERE email = $1',
                                 ['cy@example.com']);           // deterministic lookup
  console.log(res.rows[0].id, res.rows[0].ssn);
  await client.end();
}
main().catch((e) => { console.error(e.code, e.message); process.exit(1); });
