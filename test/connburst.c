/*
 * connburst: opens many connections at once and holds them, for the TAP
 * tests.  Every connection of a burst is started before any is finished
 * (PQconnectStart + one poll loop), so the logins really race each other
 * in the server.  Then it obeys commands, one per line on standard input,
 * and answers each with result lines ending in "ok":
 *
 *   open N            open N more connections at once
 *   close N           close the N most recently opened connections
 *   busy N SECONDS    start "SELECT pg_sleep(SECONDS)" on N idle connections
 *   idle_tx N         open a transaction on N idle connections
 *   settle            wait for every busy connection's query to finish
 *   count             print how many are open
 *   churn N ROUNDS    ROUNDS times: open N at once, then close them all;
 *                     prints the total admitted, refused, other and the
 *                     fewest and most admitted in one round
 *   start CONNINFO    start one login in the background with CONNINFO
 *                     added to the base conninfo (say, another user or
 *                     application_name), and answer at once; the login
 *                     goes on while connburst waits for commands, and
 *                     leaves as soon as it is admitted
 *   passed            print how the background logins went so far:
 *                     "passed=A refused=R other=O pending=P"
 *   quit              close everything and exit (also on end of input)
 *
 * A burst prints "admitted=A refused=R other=O", then one line per failed
 * login: "refused <SQLSTATE> <message> | DETAIL: ... | HINT: ..." for a
 * 53300 refusal, "other <SQLSTATE> ..." for anything else.
 * The SQLSTATE comes from the verbose error text libpq builds for a failed
 * connection ("FATAL:  53300: ...").
 *
 * Usage: connburst "conninfo" [N]
 */
#include <poll.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpq-fe.h"

#define MAX_CONNS 4096

typedef struct Conn
{
	PGconn	   *conn;
	int			busy;			/* a query was sent and not yet read */
	int			in_tx;
} Conn;

static Conn open_conns[MAX_CONNS];
static int	nopen = 0;
static const char *conninfo;

/* Background logins (start): in progress, and how the finished went. */
typedef struct Background
{
	PGconn	   *conn;
	PostgresPollingStatusType state;
} Background;

static Background bg[MAX_CONNS];
static int	nbg = 0;
static int	bg_passed = 0,
			bg_refused = 0,
			bg_other = 0;

/* One line per failure: "refused|other SQLSTATE message | DETAIL: ... | HINT: ..." */
static void
report_failure(PGconn *conn)
{
	const char *msg = PQerrorMessage(conn);
	const char *p = strstr(msg, "FATAL:  ");
	char		line[1024];
	char		sqlstate[6] = "-----";
	size_t		i,
				o = 0;

	if (p && strlen(p) > 15 && p[13] == ':')
	{
		memcpy(sqlstate, p + 8, 5);
		p += 15;				/* after "FATAL:  53300: " */
	}
	else
		p = msg;
	for (i = 0; p[i] && o < sizeof(line) - 4; i++)
	{
		if (p[i] == '\n')
		{
			if (p[i + 1] == '\0' || strncmp(p + i + 1, "LOCATION:", 9) == 0)
				break;
			memcpy(line + o, " | ", 3);
			o += 3;
		}
		else
			line[o++] = p[i];
	}
	line[o] = '\0';
	printf("%s %s %s\n", strcmp(sqlstate, "53300") == 0 ? "refused" : "other",
		   sqlstate, line);
}

typedef struct BurstResult
{
	int			admitted;
	int			refused;
	int			other;
} BurstResult;

static BurstResult
burst_quiet(int n, int quiet)
{
	PGconn	  **pending = calloc(n, sizeof(PGconn *));
	PostgresPollingStatusType *state = calloc(n, sizeof(PostgresPollingStatusType));
	struct pollfd *fds = calloc(n, sizeof(struct pollfd));
	int		   *idx = calloc(n, sizeof(int));
	int			admitted = 0,
				refused = 0,
				other = 0,
				left = 0,
				i;
	char	  **failures = calloc(n, sizeof(char *));
	int			nfail = 0;

	for (i = 0; i < n; i++)
	{
		pending[i] = PQconnectStart(conninfo);
		if (pending[i] == NULL || PQstatus(pending[i]) == CONNECTION_BAD)
		{
			state[i] = PGRES_POLLING_FAILED;
			continue;
		}
		PQsetErrorVerbosity(pending[i], PQERRORS_VERBOSE);
		state[i] = PGRES_POLLING_WRITING;
		left++;
	}
	while (left > 0)
	{
		int			nfds = 0;

		for (i = 0; i < n; i++)
		{
			if (state[i] != PGRES_POLLING_READING && state[i] != PGRES_POLLING_WRITING)
				continue;
			fds[nfds].fd = PQsocket(pending[i]);
			fds[nfds].events = state[i] == PGRES_POLLING_READING ? POLLIN : POLLOUT;
			fds[nfds].revents = 0;
			idx[nfds++] = i;
		}
		if (poll(fds, nfds, 1000) < 0)
			break;
		for (i = 0; i < nfds; i++)
		{
			int			k = idx[i];

			if (fds[i].revents == 0)
				continue;
			state[k] = PQconnectPoll(pending[k]);
			if (state[k] == PGRES_POLLING_OK || state[k] == PGRES_POLLING_FAILED)
				left--;
		}
	}
	for (i = 0; i < n; i++)
	{
		if (state[i] == PGRES_POLLING_OK && nopen < MAX_CONNS)
		{
			open_conns[nopen].conn = pending[i];
			open_conns[nopen].busy = 0;
			open_conns[nopen].in_tx = 0;
			nopen++;
			admitted++;
			continue;
		}
		if (pending[i] && strstr(PQerrorMessage(pending[i]), "FATAL:  53300") != NULL)
			refused++;
		else
			other++;
		if (pending[i])
		{
			failures[nfail++] = (char *) pending[i];
		}
	}
	if (!quiet)
		printf("admitted=%d refused=%d other=%d\n", admitted, refused, other);
	for (i = 0; i < nfail; i++)
	{
		if (!quiet)
			report_failure((PGconn *) failures[i]);
		PQfinish((PGconn *) failures[i]);
	}
	free(pending);
	free(state);
	free(fds);
	free(idx);
	free(failures);
	{
		BurstResult r = {admitted, refused, other};

		return r;
	}
}

static void
burst(int n)
{
	(void) burst_quiet(n, 0);
}

static void
settle(void)
{
	int			i;

	for (i = 0; i < nopen; i++)
	{
		PGresult   *res;

		if (!open_conns[i].busy)
			continue;
		while ((res = PQgetResult(open_conns[i].conn)) != NULL)
			PQclear(res);
		open_conns[i].busy = 0;
	}
}

static void
start_background(const char *extra)
{
	char		info[1024];

	snprintf(info, sizeof(info), "%s %s", conninfo, extra);
	if (nbg >= MAX_CONNS)
	{
		bg_other++;
		return;
	}
	bg[nbg].conn = PQconnectStart(info);
	if (bg[nbg].conn == NULL || PQstatus(bg[nbg].conn) == CONNECTION_BAD)
	{
		bg_other++;
		if (bg[nbg].conn)
			PQfinish(bg[nbg].conn);
		return;
	}
	bg[nbg].state = PGRES_POLLING_WRITING;
	nbg++;
}

/* Moves the background logins on; a finished one leaves the list. */
static void
serve_background(const struct pollfd *fds, int nfds)
{
	int			i;

	for (i = 0; i < nfds; i++)
	{
		Background *b = &bg[i];

		if (fds[i].revents == 0)
			continue;
		b->state = PQconnectPoll(b->conn);
		if (b->state == PGRES_POLLING_OK)
			bg_passed++;
		else if (b->state == PGRES_POLLING_FAILED)
		{
			if (strstr(PQerrorMessage(b->conn), "FATAL:  53300") != NULL)
				bg_refused++;
			else
				bg_other++;
		}
	}
	/* drop the finished ones, keeping the others' order */
	for (i = 0; i < nbg;)
	{
		if (bg[i].state == PGRES_POLLING_OK || bg[i].state == PGRES_POLLING_FAILED)
		{
			PQfinish(bg[i].conn);
			memmove(&bg[i], &bg[i + 1], sizeof(Background) * (nbg - i - 1));
			nbg--;
		}
		else
			i++;
	}
}

/*
 * Reads one command line from standard input, serving the background
 * logins while none has come.  Returns 0 at the end of input.
 */
static int
read_command(char *line, size_t len)
{
	static char buf[4096];
	static size_t have = 0;
	static int	eof = 0;
	static struct pollfd fds[MAX_CONNS + 1];

	for (;;)
	{
		char	   *nl = memchr(buf, '\n', have);
		int			i;

		if (nl || (eof && have > 0))
		{
			size_t		n = nl ? (size_t) (nl - buf) + 1 : have;
			size_t		c = n < len - 1 ? n : len - 1;

			memcpy(line, buf, c);
			line[c] = '\0';
			memmove(buf, buf + n, have - n);
			have -= n;
			return 1;
		}
		if (eof)
			return 0;
		for (i = 0; i < nbg; i++)
		{
			fds[i].fd = PQsocket(bg[i].conn);
			fds[i].events = bg[i].state == PGRES_POLLING_READING ? POLLIN : POLLOUT;
			fds[i].revents = 0;
		}
		fds[nbg].fd = STDIN_FILENO;
		fds[nbg].events = POLLIN;
		fds[nbg].revents = 0;
		if (poll(fds, nbg + 1, 1000) < 0)
			return 0;
		if (fds[nbg].revents)
		{
			ssize_t		r = read(STDIN_FILENO, buf + have, sizeof(buf) - have);

			if (r <= 0)
				eof = 1;
			else
				have += (size_t) r;
		}
		serve_background(fds, nbg);
	}
}

int
main(int argc, char **argv)
{
	char		line[1024];

	if (argc < 2)
	{
		fprintf(stderr, "usage: connburst \"conninfo\" [N]\n");
		return 2;
	}
	conninfo = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* a socket per connection: up to MAX_CONNS of them */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
		{
			rl.rlim_cur = rl.rlim_max;
			(void) setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (argc > 2)
	{
		burst(atoi(argv[2]));
		printf("ok\n");
	}

	while (read_command(line, sizeof(line)))
	{
		int			n = 0;
		double		secs = 0;
		int			i;

		if (sscanf(line, "open %d", &n) == 1)
			burst(n);
		else if (sscanf(line, "close %d", &n) == 1)
		{
			settle();
			for (i = 0; i < n && nopen > 0; i++)
				PQfinish(open_conns[--nopen].conn);
			printf("closed=%d\n", i);
		}
		else if (sscanf(line, "busy %d %lf", &n, &secs) == 2)
		{
			char		sql[64];
			int			started = 0;

			snprintf(sql, sizeof(sql), "SELECT pg_sleep(%g)", secs);
			for (i = 0; i < nopen && started < n; i++)
			{
				if (open_conns[i].busy || open_conns[i].in_tx)
					continue;
				if (PQsendQuery(open_conns[i].conn, sql))
				{
					open_conns[i].busy = 1;
					started++;
				}
			}
			printf("busy=%d\n", started);
		}
		else if (sscanf(line, "idle_tx %d", &n) == 1)
		{
			int			started = 0;

			for (i = nopen - 1; i >= 0 && started < n; i--)
			{
				PGresult   *res;

				if (open_conns[i].in_tx || open_conns[i].busy)
					continue;
				res = PQexec(open_conns[i].conn, "BEGIN; SELECT 1");
				if (PQresultStatus(res) == PGRES_TUPLES_OK)
				{
					open_conns[i].in_tx = 1;
					started++;
				}
				PQclear(res);
			}
			printf("idle_tx=%d\n", started);
		}
		else if (sscanf(line, "churn %d %lf", &n, &secs) == 2)
		{
			int			rounds = (int) secs;
			int			r;
			int			fewest = n + 1,
						most = -1;
			BurstResult total = {0, 0, 0};

			settle();
			for (r = 0; r < rounds; r++)
			{
				int			base = nopen;
				BurstResult b = burst_quiet(n, 1);

				total.admitted += b.admitted;
				total.refused += b.refused;
				total.other += b.other;
				if (b.admitted < fewest)
					fewest = b.admitted;
				if (b.admitted > most)
					most = b.admitted;
				while (nopen > base)
					PQfinish(open_conns[--nopen].conn);
			}
			printf("churn admitted=%d refused=%d other=%d fewest=%d most=%d\n",
				   total.admitted, total.refused, total.other, fewest, most);
		}
		else if (strncmp(line, "start ", 6) == 0)
		{
			line[strcspn(line, "\n")] = '\0';
			start_background(line + 6);
		}
		else if (strncmp(line, "passed", 6) == 0)
			printf("passed=%d refused=%d other=%d pending=%d\n",
				   bg_passed, bg_refused, bg_other, nbg);
		else if (strncmp(line, "settle", 6) == 0)
			settle();
		else if (strncmp(line, "count", 5) == 0)
		{
			int			ok = 0;

			for (i = 0; i < nopen; i++)
				if (PQstatus(open_conns[i].conn) == CONNECTION_OK)
					ok++;
			printf("open=%d\n", ok);
		}
		else if (strncmp(line, "quit", 4) == 0)
			break;
		else
			printf("error unknown command\n");
		printf("ok\n");
	}
	settle();
	while (nopen > 0)
		PQfinish(open_conns[--nopen].conn);
	while (nbg > 0)
		PQfinish(bg[--nbg].conn);
	return 0;
}
