// A small web-style application on HikariCP (with pgjdbc), for t/022.
//
//   java PoolApp HOST PORT USER maximumPoolSize minimumIdle connectionTimeout
//                idleTimeout loginTimeout [WORKERS]
//
// The numbers are what pool_governor.pool_config(tenant, 'hikaricp')
// returned, set with HikariConfig's own setters (loginTimeout as pgjdbc's
// data source property).  WORKERS threads (4) each run requests
// (getConnection, SELECT pg_sleep(0.1), close) until standard input closes.
// Refusals (SQLState 53300, in the exception or its causes) print as
// "refusal: <text>", other failures as "error: <text>"; at the end
// "summary ok=N errors=E".
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

public class PoolApp {
	static volatile boolean stopping = false;

	static synchronized void say(String line) {
		System.out.println(line.replace('\n', ' '));
		System.out.flush();
	}

	static void failure(Throwable e) {
		StringBuilder text = new StringBuilder();
		boolean refused = false;
		for (Throwable t = e; t != null; t = t.getCause()) {
			text.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append(" <- ");
			if (t instanceof SQLException && ("53300".equals(((SQLException) t).getSQLState()) ||
											  "57P03".equals(((SQLException) t).getSQLState())))
				refused = true;
		}
		say((refused ? "refusal: " : "error: ") + text);
	}

	public static void main(String[] a) throws Exception {
		HikariConfig c = new HikariConfig();
		c.setJdbcUrl("jdbc:postgresql://" + a[0] + ":" + a[1] + "/postgres");
		c.setUsername(a[2]);
		c.setMaximumPoolSize(Integer.parseInt(a[3]));
		c.setMinimumIdle(Integer.parseInt(a[4]));
		c.setConnectionTimeout(Long.parseLong(a[5]));
		c.setIdleTimeout(Long.parseLong(a[6]));
		c.addDataSourceProperty("loginTimeout", a[7]);
		c.addDataSourceProperty("ApplicationName", "pool-hikaricp");
		c.setPoolName("pool-hikaricp");
		int workers = a.length > 8 ? Integer.parseInt(a[8]) : 4;
		HikariDataSource ds = new HikariDataSource(c);
		AtomicInteger ok = new AtomicInteger();
		AtomicInteger errors = new AtomicInteger();
		Thread[] threads = new Thread[workers];
		for (int i = 0; i < workers; i++) {
			threads[i] = new Thread(() -> {
				while (!stopping) {
					try (Connection conn = ds.getConnection(); Statement st = conn.createStatement()) {
						st.execute("SELECT pg_sleep(0.1)");
						ok.incrementAndGet();
					} catch (Exception e) {
						errors.incrementAndGet();
						failure(e);
						try { Thread.sleep(100); } catch (InterruptedException ie) { return; }
					}
				}
			});
			threads[i].start();
		}
		say("ready");
		while (System.in.read() >= 0)
			;
		stopping = true;
		for (Thread t : threads)
			t.join();
		say("summary ok=" + ok.get() + " errors=" + errors.get());
		ds.close();
	}
}
