#!/usr/bin/python3
"""filtered_bench.py: the client side of bench/filtered.sh.

Every query is sent the way an application sends it: psycopg2 interpolates
the label and the vector into the SQL text (a literal, custom plan each
time), default settings, one connection.

  filtered_bench.py fmnist FMNIST_BIN NQ        Fashion-MNIST, label = c
  filtered_bench.py indep ROWS DIMS NQ          generated, independent labels
  filtered_bench.py diag ROWS DIMS NQ           the same data: other settings, plan costs

Connection from the libpq environment (PGHOST, PGPORT, ...).  Prints one
table line per case on stdout; progress on stderr.

Per case: rows = rows returned over all queries (NQ*10 = always 10),
recall@10 against the exact answer (a sequential scan computed before any
index exists), QPS = queries / wall seconds of a timed pass (after the
recall pass warmed the caches), same = share of queries whose ids equal
the exact answer in the same order, cpuQPS = queries / the server backend's CPU
seconds (utime+stime from /proc: what a query costs however busy the shared
machine is), and the plan of the first query with EXPLAIN (ANALYZE) index
scan details.
"""
import os
import re
import subprocess
import sys
import time

import numpy as np
import psycopg2

K = 10
TCK = os.sysconf('SC_CLK_TCK')
MIN_TIMED_S = 2.0


def log(*a):
    print('==>', *a, file=sys.stderr, flush=True)


def connect():
    conn = psycopg2.connect('')
    conn.autocommit = True
    return conn


def backend_cpu(conn):
    with conn.cursor() as c:
        c.execute('SELECT pg_backend_pid()')
        pid = c.fetchone()[0]
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TCK


def vec_text(v):
    if v.dtype.kind in 'iu':
        return '[' + ','.join(map(str, v.tolist())) + ']'
    return '[' + ','.join('%.6g' % x for x in v.tolist()) + ']'


class Bench:
    def __init__(self, table, dist_op, out):
        self.table = table
        self.op = dist_op
        self.out = out
        self.conn = connect()

    def sql(self, where):
        w = f'WHERE {where} ' if where else ''
        return f'SELECT id FROM {self.table} {w}ORDER BY v {self.op} %(v)s::vector LIMIT {K}'

    def run_queries(self, cur, where, queries):
        res = []
        q = self.sql(where)
        for qv, lab in queries:
            cur.execute(q, {'v': qv, 'label': lab})
            res.append([r[0] for r in cur.fetchall()])
        return res

    def exact(self, where, queries):
        """Exact answers by sequential scan (no index may exist yet)."""
        with self.conn.cursor() as cur:
            cur.execute('SET max_parallel_workers_per_gather = 0')
            cur.execute('SET enable_indexscan = off')
            cur.execute('SET enable_bitmapscan = off')
            t0 = time.time()
            c0 = backend_cpu(self.conn)
            res = self.run_queries(cur, where, queries)
            wall = time.time() - t0
            cpu = backend_cpu(self.conn) - c0
            cur.execute('RESET ALL')
        return res, len(queries) / wall, len(queries) / max(cpu, 1e-9)

    def plan(self, where, query):
        with self.conn.cursor() as cur:
            cur.execute('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' + self.sql(where),
                        {'v': query[0], 'label': query[1]})
            keep = [re.sub(r"'\[[^]]*\]'::vector", '$q', r[0].strip().replace('->  ', ''))
                    for r in cur.fetchall()]
        return ' | '.join(keep)

    def case(self, index, name, where, queries, truth, base_qps=None, prepare=None):
        with self.conn.cursor() as cur:
            if prepare:
                for s in prepare:
                    cur.execute(s)
            res = self.run_queries(cur, where, queries)
            rows = sum(len(r) for r in res)
            hit = sum(len(set(r) & set(t)) for r, t in zip(res, truth))
            recall = hit / sum(len(t) for t in truth)
            same = sum(r == t for r, t in zip(res, truth)) / len(truth)
            n = 0
            t0 = time.time()
            c0 = backend_cpu(self.conn)
            while True:
                self.run_queries(cur, where, queries)
                n += len(queries)
                if time.time() - t0 >= MIN_TIMED_S:
                    break
            wall = time.time() - t0
            cpu = backend_cpu(self.conn) - c0
            plan = self.plan(where, queries[0])
            if prepare:
                cur.execute('RESET ALL')
        qps = n / wall
        ratio = '-' if base_qps is None else '%.2f' % (qps / base_qps)
        line = '%-26s %-6s %6d %7.4f %6.2f %8.1f %8.1f %6s  %s' % (
            index, name, rows, recall, same, qps, n / max(cpu, 1e-9), ratio, plan)
        print(line, flush=True)
        return qps

    def exact_line(self, name, qps, cpuqps):
        print('%-26s %-6s %6s %7s %6s %8.1f %8.1f %6s  %s' % (
            '(no index) exact', name, '', '1.0000', '1.00', qps, cpuqps, '-', 'Seq Scan + top-N sort'), flush=True)

    def ddl(self, stmt):
        t0 = time.time()
        with self.conn.cursor() as cur:
            cur.execute(stmt)
        print('# %s: %.1f s' % (stmt, time.time() - t0), flush=True)


def header():
    print('%-26s %-6s %6s %7s %6s %8s %8s %6s  %s' % (
        'index', 'filter', 'rows', 'recall', 'same', 'QPS', 'cpuQPS', 'vs_unf', 'plan (first query, EXPLAIN ANALYZE)'))


def copy_rows(conn, table, lines):
    import io
    with conn.cursor() as cur:
        cur.copy_expert(f'COPY {table} FROM STDIN', io.StringIO(lines))


def fmnist(binpath, nq):
    conn = connect()
    out = subprocess.run([binpath, 'train'], capture_output=True, text=True, check=True).stdout
    test = subprocess.run([binpath, 'test', str(nq)], capture_output=True, text=True, check=True).stdout
    with conn.cursor() as cur:
        # default storage: 784-dim vectors go out of line (TOAST)
        cur.execute('CREATE TABLE fm (id int PRIMARY KEY, label int, v vector(784))')
        cur.execute('CREATE TABLE fm_tuned (id int PRIMARY KEY, label int, v vector(784)) '
                    'WITH (toast_tuple_target = 8160)')
    copy_rows(conn, 'fm', out)
    copy_rows(conn, 'fm_tuned', out)
    with conn.cursor() as cur:
        cur.execute('VACUUM ANALYZE fm')
        cur.execute('VACUUM ANALYZE fm_tuned')
    queries = []
    for line in test.splitlines():
        _, lab, v = line.split('\t')
        queries.append((v, int(lab)))

    b = Bench('fm', '<->', sys.stdout)
    print('# Fashion-MNIST 60,000 x 784, L2, k=10, %d test images as queries; '
          'filter label = <the query image\'s class> (10%%, correlated with the vectors)' % nq)
    print('# table fm: plain CREATE TABLE (vectors TOASTed); queries as literals', flush=True)
    log('fmnist: exact answers')
    gt0, eq0, ec0 = b.exact(None, queries)
    gt1, eq1, ec1 = b.exact('label = %(label)s', queries)
    header()
    b.exact_line('none', eq0, ec0)
    b.exact_line('10%', eq1, ec1)
    log('fmnist: hnsw (v)')
    b.ddl('CREATE INDEX fm_v ON fm USING hnsw (v vector_l2_ops)')
    b.ddl('ANALYZE fm')
    base = b.case('hnsw (v)', 'none', None, queries, gt0)
    b.case('hnsw (v)', '10%', 'label = %(label)s', queries, gt1, base)
    log('fmnist: hnsw (v, label)')
    b.ddl('CREATE INDEX fm_v_l ON fm USING hnsw (v vector_l2_ops, label)')
    b.ddl('DROP INDEX fm_v')
    b.ddl('ANALYZE fm')
    base = b.case('hnsw (v, label)', 'none', None, queries, gt0)
    b.case('hnsw (v, label)', '10%', 'label = %(label)s', queries, gt1, base)
    b.ddl('DROP INDEX fm_v_l')

    # secondary: the old tuned setup (vectors in the heap page, prepared
    # generic plan) on the same queries, for comparison only
    log('fmnist: tuned setup')
    print('# secondary, the old tuned setup: table fm_tuned WITH (toast_tuple_target = 8160), '
          'PREPARE + EXECUTE with plan_cache_mode = force_generic_plan')
    bt = Bench('fm_tuned', '<->', sys.stdout)
    bt.ddl('CREATE INDEX fmt_v ON fm_tuned USING hnsw (v vector_l2_ops)')
    bt.ddl('ANALYZE fm_tuned')
    prep = ['SET plan_cache_mode = force_generic_plan',
            'DEALLOCATE ALL',
            'PREPARE p0(vector) AS SELECT id FROM fm_tuned ORDER BY v <-> $1 LIMIT 10',
            'PREPARE p1(vector, int) AS SELECT id FROM fm_tuned WHERE label = $2 ORDER BY v <-> $1 LIMIT 10']

    def prepared(where):
        return 'EXECUTE p1(%(v)s, %(label)s)' if where else 'EXECUTE p0(%(v)s)'
    # run the prepared statements through the same loop
    bt.sql = lambda where: prepared(where)
    base = bt.case('tuned: hnsw (v)', 'none', None, queries, gt0, prepare=prep)
    bt.case('tuned: hnsw (v)', '10%', 'x', queries, gt1, base, prepare=prep)


def indep_load(nrows, dims, nq):
    """Clustered vectors, labels drawn independently of them.

    Label frequencies (exact counts, randomly permuted over the rows):
      label 0: 20%, 1: 15%, 2-4: 10% each, 5-34: 1% each, 35-84: 0.1% each
    Queries: held-out vectors from the same distribution, for each
    selectivity class a label drawn uniformly from that class's labels.
    """
    rng = np.random.default_rng(17)
    nclusters = max(nrows // 100, 10)
    centers = rng.standard_normal((nclusters, dims)).astype(np.float32)
    total = nrows + 3 * nq

    def draw(n):
        c = rng.integers(0, nclusters, n)
        return centers[c] + 0.6 * rng.standard_normal((n, dims)).astype(np.float32)

    vs = draw(total)
    base, qv = vs[:nrows], vs[nrows:]
    freqs = [0.20, 0.15] + [0.10] * 3 + [0.01] * 30 + [0.001] * 50
    counts = [int(round(f * nrows)) for f in freqs]
    counts[0] += nrows - sum(counts)
    labels = np.repeat(np.arange(len(freqs)), counts)
    rng.shuffle(labels)
    classes = {'10%': range(2, 5), '1%': range(5, 35), '0.1%': range(35, 85)}

    conn = connect()
    with conn.cursor() as cur:
        cur.execute(f'CREATE TABLE ind (id int PRIMARY KEY, label int, v vector({dims}))')
    log(f'indep: loading {nrows} x {dims}')
    chunk = 20000
    for s in range(0, nrows, chunk):
        lines = ''.join('%d\t%d\t%s\n' % (i + 1, labels[i], vec_text(base[i]))
                        for i in range(s, min(s + chunk, nrows)))
        copy_rows(conn, 'ind', lines)
    with conn.cursor() as cur:
        cur.execute('VACUUM ANALYZE ind')

    qtext = [vec_text(v) for v in qv]
    unf = [(qtext[i], None) for i in range(nq)]
    sets = {}
    for j, (name, labs) in enumerate(classes.items()):
        labs = list(labs)
        sets[name] = [(qtext[j * nq + i], int(rng.choice(labs))) for i in range(nq)]

    return nclusters, unf, sets


def indep(nrows, dims, nq):
    nclusters, unf, sets = indep_load(nrows, dims, nq)
    b = Bench('ind', '<=>', sys.stdout)
    print('# generated: %d x %d, cosine, k=10, %d queries per selectivity; %d gaussian clusters '
          '(sigma 0.6 around N(0,1) centres); labels independent of the vectors, frequencies '
          '20%%, 15%%, 3 x 10%%, 30 x 1%%, 50 x 0.1%%; each query\'s label drawn uniformly '
          'from the labels of its class' % (nrows, dims, nq, nclusters))
    print('# table ind: plain CREATE TABLE (512-byte vectors stay in the heap page); queries as literals',
          flush=True)
    where = 'label = %(label)s'
    log('indep: exact answers')
    header()
    gt = {}
    gt['none'], e, c = b.exact(None, unf)
    b.exact_line('none', e, c)
    for name, qs in sets.items():
        gt[name], e, c = b.exact(where, qs)
        b.exact_line(name, e, c)

    log('indep: hnsw (v)')
    b.ddl('CREATE INDEX ind_v ON ind USING hnsw (v vector_cosine_ops)')
    b.ddl('ANALYZE ind')
    base = b.case('hnsw (v)', 'none', None, unf, gt['none'])
    for name, qs in sets.items():
        b.case('hnsw (v)', name, where, qs, gt[name], base)
    log('indep: hnsw (v) + btree (label)')
    b.ddl('CREATE INDEX ind_l ON ind (label)')
    b.ddl('ANALYZE ind')
    for name, qs in sets.items():
        b.case('hnsw (v) + btree (label)', name, where, qs, gt[name], base)
    b.ddl('DROP INDEX ind_l')

    log('indep: hnsw (v, label)')
    b.ddl('CREATE INDEX ind_v_l ON ind USING hnsw (v vector_cosine_ops, label)')
    b.ddl('DROP INDEX ind_v')
    b.ddl('ANALYZE ind')
    base = b.case('hnsw (v, label)', 'none', None, unf, gt['none'])
    for name, qs in sets.items():
        b.case('hnsw (v, label)', name, where, qs, gt[name], base)


def diag(nrows, dims, nq):
    """Where recall goes on the independent labels: the same cases under
    other settings, and the planner's costs for the index and exact plans."""
    nclusters, unf, sets = indep_load(nrows, dims, nq)
    b = Bench('ind', '<=>', sys.stdout)
    print('# diagnosis, generated %d x %d (as indep), %d queries per selectivity' % (nrows, dims, nq))
    where = 'label = %(label)s'
    gt = {}
    for name in ('10%', '1%'):
        gt[name], _, _ = b.exact(where, sets[name])
    settings = [[], ['SET hnsw.exact_fallback = off'], ['SET hnsw.max_scan_tuples = 100000'],
                ['SET hnsw.ef_search = 100'], ['SET hnsw.ef_search = 200'],
                ['SET hnsw.iterative_scan = relaxed_order'],
                ['SET hnsw.iterative_scan = relaxed_order', 'SET hnsw.max_scan_tuples = 100000']]
    header()
    for idx, ddl in (('hnsw (v)', 'CREATE INDEX ind_v ON ind USING hnsw (v vector_cosine_ops)'),
                     ('hnsw (v, label)', 'CREATE INDEX ind_v ON ind USING hnsw (v vector_cosine_ops, label)')):
        b.ddl(ddl)
        b.ddl('ANALYZE ind')
        for name in ('10%', '1%'):
            for st in settings:
                if idx != 'hnsw (v)' and name == '1%' and st:
                    continue
                label = idx + ' ' + (','.join(x.split('.', 1)[1].replace(' ', '') for x in st) or 'default')
                b.case(label[:60].ljust(26), name, where, sets[name], gt[name], prepare=st + ['SELECT 1'])
        if idx == 'hnsw (v)':
            # the planner's view: index walk vs btree + sort at each selectivity
            b.ddl('CREATE INDEX ind_l ON ind (label)')
            b.ddl('ANALYZE ind')
            with b.conn.cursor() as cur:
                for name in ('10%', '1%', '0.1%'):
                    qv, lab = sets[name][0]
                    for off in ('', 'SET enable_indexscan = off'):
                        if off:
                            cur.execute(off)
                        cur.execute('EXPLAIN (ANALYZE, SUMMARY ON) ' + b.sql(where), {'v': qv, 'label': lab})
                        lines = [r[0] for r in cur.fetchall()]
                        cur.execute('RESET ALL')
                        print('# plan %-5s %-22s %s | %s' % (name, off and 'enable_indexscan=off' or 'default',
                              re.sub(r"'\[[^]]*\]'::vector", '$q', lines[0].strip() + ' / ' + lines[1].strip().replace('->  ', '')),
                              lines[-1].strip()), flush=True)
            b.ddl('DROP INDEX ind_l')
        b.ddl('DROP INDEX ind_v')


def main():
    what = sys.argv[1]
    if what == 'fmnist':
        fmnist(sys.argv[2], int(sys.argv[3]))
    elif what == 'indep':
        indep(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif what == 'diag':
        diag(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
