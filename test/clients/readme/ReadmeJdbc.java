import java.sql.*;

public class ReadmeJdbc {
    public static void main(String[] args) throws SQLException {
        String url = System.getenv().getOrDefault("JDBC_URL", "jdbc:postgresql://localhost/app?user=payroll_app");
        try (Connection c = DriverManager.getConnection(url)) {
            try (PreparedStatement ins = c.prepareStatement(
                    "INSERT INTO people (id, email, ssn) VALUES (?, ?, ?)")) {
                ins.setInt(1, 1);
                ins.setString(2, "ann@example.com");      // encrypted by the column's type
                ins.setString(3, "123-45-6789");
                ins.executeUpdate();
            }
            try (PreparedStatement q = c.prepareStatement(
                    "SELECT id, privacy.decrypt(ssn) FROM people WHERE email = ?")) {
                q.setString(1, "ann@example.com");         // deterministic lookup, uses the index
                try (ResultSet rs = q.executeQuery()) {
                    while (rs.next()) System.out.println(rs.getInt(1) + " " + rs.getString(2));
                }
            }
        }
    }
}
