// pgJDBC with its default connection settings against privacy_ext: what an
// application does with setString()/setBytes(), batches, and statements run
// past prepareThreshold (server-side prepared).  Prints one "ok - ..." or
// "not ok - ..." line per check; test/t/012_clients.pl runs it.
//   java -cp /usr/share/java/postgresql.jar JdbcClient.java PORT DATABASE
import java.sql.*;
import java.util.Arrays;

public class JdbcClient {
    static int failures = 0;

    static void check(boolean ok, String what) {
        System.out.println((ok ? "ok - " : "not ok - ") + "jdbc: " + what);
        if (!ok) failures++;
    }

    static String sqlState(Connection c, String sql, String... params) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) ps.setString(i + 1, params[i]);
            ps.execute();
            return "none";
        } catch (SQLException e) {
            return e.getSQLState();
        }
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/" + args[1];
        try (Connection app = DriverManager.getConnection(url, "cl_app", "");
             Connection other = DriverManager.getConnection(url, "cl_other", "")) {
            // Inserts binding every encrypted type with the driver's defaults.
            try (PreparedStatement ins = app.prepareStatement(
                    "INSERT INTO cl_people (id, ssn, email, doc) VALUES (?, ?, ?, ?)")) {
                ins.setInt(1, 1);
                ins.setString(2, "JDBC-SSN-1");
                ins.setString(3, "jdbc1@example.com");
                ins.setBytes(4, new byte[] {1, 2, 3});
                check(ins.executeUpdate() == 1, "setString/setBytes insert into encrypted_text, _det and _bytea");
                for (int i = 2; i <= 101; i++) {
                    ins.setInt(1, i);
                    ins.setString(2, "JDBC-SSN-" + i);
                    ins.setString(3, "jdbc" + i + "@example.com");
                    ins.setBytes(4, new byte[] {(byte) i});
                    ins.addBatch();
                }
                int[] counts = ins.executeBatch();
                check(counts.length == 100 && Arrays.stream(counts).allMatch(n -> n == 1 || n == Statement.SUCCESS_NO_INFO),
                      "a batch of 100 inserts");
            }
            // Deterministic lookups, also after the driver switched to a
            // server-side prepared statement (prepareThreshold = 5).
            boolean allFound = true;
            try (PreparedStatement q = app.prepareStatement("SELECT id FROM cl_people WHERE email = ?")) {
                for (int i = 1; i <= 12; i++) {
                    q.setString(1, "jdbc" + (i * 7) + "@example.com");
                    try (ResultSet rs = q.executeQuery()) {
                        allFound &= rs.next() && rs.getInt(1) == i * 7 && !rs.next();
                    }
                }
            }
            check(allFound, "setString lookups on the deterministic column, 12 executions past prepareThreshold");
            try (PreparedStatement q = app.prepareStatement("EXPLAIN SELECT id FROM cl_people WHERE email = ?")) {
                q.setString(1, "jdbc7@example.com");
                StringBuilder plan = new StringBuilder();
                try (Statement s = app.createStatement()) { s.execute("SET enable_seqscan = off"); }
                try (ResultSet rs = q.executeQuery()) { while (rs.next()) plan.append(rs.getString(1)).append('\n'); }
                try (Statement s = app.createStatement()) { s.execute("RESET enable_seqscan"); }
                check(plan.toString().contains("Index"), "the setString lookup uses the index");
                check(!plan.toString().contains("jdbc7"), "the plan shows no plaintext");
            }
            // Decrypts.
            try (PreparedStatement q = app.prepareStatement(
                    "SELECT privacy.decrypt(ssn), privacy.decrypt(email), privacy.decrypt(doc) FROM cl_people WHERE id = ?")) {
                q.setInt(1, 42);
                try (ResultSet rs = q.executeQuery()) {
                    check(rs.next() && "JDBC-SSN-42".equals(rs.getString(1)) && "jdbc42@example.com".equals(rs.getString(2))
                          && Arrays.equals(rs.getBytes(3), new byte[] {42}), "decrypt through getString/getBytes");
                }
            }
            // The stored values are envelopes, not the plaintext.
            try (Statement s = app.createStatement(); ResultSet rs = s.executeQuery("SELECT ssn FROM cl_people WHERE id = 42")) {
                check(rs.next() && rs.getString(1).startsWith("pxe1:") && !rs.getString(1).contains("JDBC-SSN"),
                      "reading the column gives the envelope");
            }
            // An envelope sent as such (Types.OTHER: untyped) is kept, not encrypted again.
            String envelope;
            try (Statement s = app.createStatement(); ResultSet rs = s.executeQuery("SELECT ssn FROM cl_people WHERE id = 5")) {
                rs.next();
                envelope = rs.getString(1);
            }
            try (PreparedStatement q = app.prepareStatement("SELECT privacy.decrypt(?::privacy.encrypted_text)")) {
                q.setObject(1, envelope, Types.OTHER);
                try (ResultSet rs = q.executeQuery()) {
                    check(rs.next() && "JDBC-SSN-5".equals(rs.getString(1)), "an envelope bound untyped decrypts");
                }
            }
            // Errors, each with its SQLSTATE.
            check(sqlState(other, "SELECT privacy.decrypt(ssn) FROM cl_people WHERE id = 1").equals("42501"),
                  "no grant for the key: 42501");
            char[] t = envelope.toCharArray();
            t[t.length - 3] = t[t.length - 3] == 'A' ? 'B' : 'A';
            String tampered = new String(t);
            String state;
            try (PreparedStatement q = app.prepareStatement("SELECT privacy.decrypt(?::privacy.encrypted_text)")) {
                q.setObject(1, tampered, Types.OTHER);
                q.executeQuery();
                state = "none";
            } catch (SQLException e) {
                state = e.getSQLState();
            }
            check(state.equals("PXA01"), "a tampered envelope: PXA01 (got " + state + ")");
            state = sqlState(app, "SELECT privacy.encrypt(?, ?)", "x", "cl_nosuchkey");
            check(state.equals("PXK01"), "an unknown key: PXK01 (got " + state + ")");
            state = sqlState(app, "SELECT set_config('privacy.purpose', ?, false)", "cl_nosuchpurpose");
            check(state.equals("42704"), "an unknown purpose: 42704 (got " + state + ")");
            state = sqlState(other, "SELECT set_config('privacy.purpose', ?, false)", "cl_marketing");
            check(state.equals("42501"), "a purpose not granted: 42501 (got " + state + ")");
            // Consent filtering with a purpose declared through a bound parameter.
            try (PreparedStatement p = app.prepareStatement("SELECT set_config('privacy.purpose', ?, false)")) {
                p.setString(1, "cl_marketing");
                p.execute();
            }
            try (Statement s = app.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM cl_customers")) {
                check(rs.next() && rs.getInt(1) == 2, "consent filtering for the declared purpose (2 of 3 rows)");
            }
        }
        System.out.println("jdbc: " + failures + " failures");
        System.exit(failures == 0 ? 0 : 1);
    }
}
