/*
 * hnsw_client.c
 *	  Single-client SQL benchmark for hnsw: recall@10 and QPS per ef_search.
 *
 * Usage: hnsw_client CONNINFO QUERIES.tsv GT.txt TABLE COLUMN TYPE EF...
 *   QUERIES.tsv  fmnist output (id, label, [vector])
 *   GT.txt       one line per query: the 10 exact neighbour ids
 *   TYPE         vector or halfvec (the query parameter is cast to it)
 * One prepared statement "SELECT id FROM TABLE ORDER BY COLUMN <-> $1 LIMIT 10"
 * is executed for every query (text parameter, as clients send it); each ef
 * gets a warm-up pass, then a timed pass over all queries.
 * Prints: ef,recall,qps,ms_per_query,backend_cpu_ms_per_query, then, if the
 * backend kept graph copies (hnsw.cache_size, e.g. through PGOPTIONS), a
 * "# graph copy" comment line for each.
 * The last column is the server backend's CPU time (utime + stime from
 * /proc, same machine) per query: less sensitive than wall time to other
 * load on a shared machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define K 10
#define MAXQ 10000

static char *qtext[MAXQ];
static int	gt[MAXQ][K];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds used so far by process pid (0 if unreadable) */
static double
proc_cpu(int pid)
{
	char		path[64];
	FILE	   *f;
	char		buf[4096];
	char	   *p;
	unsigned long ut = 0,
				st = 0;
	int			i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
	{
		fclose(f);
		return 0;
	}
	fclose(f);
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* fields after the command: state is field 3; utime 14, stime 15 */
	for (i = 3; i < 14 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%lu %lu", &ut, &st) != 2)
		return 0;
	return (double) (ut + st) / sysconf(_SC_CLK_TCK);
}

static void
die(PGconn *c, const char *what)
{
	fprintf(stderr, "%s: %s", what, c ? PQerrorMessage(c) : "error\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	PGconn	   *conn;
	FILE	   *f;
	char	   *line = NULL;
	size_t		cap = 0;
	int			nq = 0,
				i,
				a;
	char		sql[512];
	PGresult   *res;
	int			bpid;

	if (argc < 8)
	{
		fprintf(stderr, "usage: %s CONNINFO QUERIES GT TABLE COLUMN TYPE EF...\n", argv[0]);
		return 2;
	}
	f = fopen(argv[2], "r");
	if (!f)
		die(NULL, "queries");
	while (getline(&line, &cap, f) > 0 && nq < MAXQ)
	{
		char	   *v = strchr(line, '[');
		char	   *e = v ? strchr(v, ']') : NULL;

		if (!v || !e)
			continue;
		e[1] = '\0';
		qtext[nq++] = strdup(v);
	}
	fclose(f);
	f = fopen(argv[3], "r");
	if (!f)
		die(NULL, "gt");
	for (i = 0; i < nq; i++)
		for (a = 0; a < K; a++)
			if (fscanf(f, "%d", &gt[i][a]) != 1)
				die(NULL, "gt short");
	fclose(f);

	conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK)
		die(conn, "connect");
	snprintf(sql, sizeof(sql), "SELECT id FROM %s ORDER BY %s <-> $1::%s LIMIT %d",
			 argv[4], argv[5], argv[6], K);
	res = PQprepare(conn, "q", sql, 1, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		die(conn, "prepare");
	PQclear(res);

	res = PQexec(conn, "SELECT pg_backend_pid()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		die(conn, "pid");
	bpid = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);

	printf("ef,recall,qps,ms_per_query,backend_cpu_ms_per_query\n");
	for (a = 7; a < argc; a++)
	{
		char		set[64];
		long		hits = 0;
		double		t0,
					t,
					c0 = 0,
					c = 0;
		int			pass;

		snprintf(set, sizeof(set), "SET hnsw.ef_search = %d", atoi(argv[a]));
		res = PQexec(conn, set);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			die(conn, "set");
		PQclear(res);
		for (pass = 0; pass < 2; pass++)
		{
			int			n = pass == 0 ? (nq < 200 ? nq : 200) : nq;

			t0 = now();
			c0 = proc_cpu(bpid);
			for (i = 0; i < n; i++)
			{
				const char *p[1] = {qtext[i]};
				int			r,
							j;

				res = PQexecPrepared(conn, "q", 1, p, NULL, NULL, 0);
				if (PQresultStatus(res) != PGRES_TUPLES_OK)
					die(conn, "query");
				if (pass == 1)
					for (r = 0; r < PQntuples(res); r++)
					{
						int			id = atoi(PQgetvalue(res, r, 0));

						for (j = 0; j < K; j++)
							if (gt[i][j] == id)
							{
								hits++;
								break;
							}
					}
				PQclear(res);
			}
			t = now() - t0;
			c = proc_cpu(bpid) - c0;
		}
		printf("%d,%.4f,%.1f,%.3f,%.3f\n", atoi(argv[a]), (double) hits / ((double) nq * K),
			   nq / t, 1000.0 * t / nq, 1000.0 * c / nq);
		fflush(stdout);
	}

	/* with hnsw.cache_size set (PGOPTIONS): the graph copy this backend kept */
	res = PQexec(conn, "SELECT index, bytes, builds, hits FROM vecx_hnsw_cache_status() WHERE builds > 0");
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		for (i = 0; i < PQntuples(res); i++)
			printf("# graph copy of %s: %s bytes, %s copies taken, %s scans served\n",
				   PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
				   PQgetvalue(res, i, 3));
	PQclear(res);
	PQfinish(conn);
	return 0;
}
