# gen.py: random cases for the differential test (table shape, index,
# settings, queries), each fully determined by its seed.
#
# A case is one table with one vector index, one set of session settings and
# a handful of queries.  Settings are per case, not per query, because what a
# scan promises depends on them (see check.py) and because graph copies
# (hnsw.cache_size) are only taken after several walks in one backend.
#
# Everything is drawn from random.Random(seed), so `--seed S` rebuilds the
# very same rows, index and queries.

import math
import random
from dataclasses import dataclass, field

# Operator and the name of the function that tells which rows are not
# indexed (cosine: zero vectors), per operator class suffix.
OPS = {
    "l2": "<->",
    "ip": "<#>",
    "cosine": "<=>",
    "l1": "<+>",
    "hamming": "<~>",
    "jaccard": "<%>",
}

# The operator classes each access method has (sql/install/50_hnsw.sql,
# 60_ivfpq.sql, 62_ivfflat.sql): hnsw has l1, ivfpq does not; ivfflat has
# bit_hamming_ops (on bit(n); its vectors are strings of 0 and 1).
AM_METRICS = {
    "hnsw": ["l2", "ip", "cosine", "l1"],
    "ivfpq": ["l2", "ip", "cosine"],
    "ivfflat": ["l2", "ip", "cosine", "hamming"],
}

# A quarter of the seeds are ivfflat cases, chosen by a generator of their
# own so that every other seed keeps the hnsw or ivfpq case it had before
# ivfflat existed.
IVFFLAT_SHARE = 0.25

SHAPES = ["uniform", "clustered", "grid", "duplicates"]

# hnsw also indexes sparsevec (the four float metrics) and bit(n) (Hamming
# and Jaccard, sql/install/52_hnsw_types.sql).  Such cases draw the dense
# rows of their shape as any other and convert them (Case.convert); the
# choice comes from a second random stream, so that the draws of every
# other case stay those of their seed.
SPARSE_BIT_SHARE = 0.3

# Filter columns: a uniform in [0,1000), b uniform in [0,100), both drawn
# independently of the vectors, about 2% NULL (a NULL filter value matches
# no condition).  Each filter: (SQL template, selectivity, can the index
# evaluate it).  {c} is replaced by a random constant of b's range.
FILTERS = [
    (None, 1.0, True),
    ("a < 100", 0.1, True),
    ("b < 10", 0.1, True),
    ("a < 10", 0.01, True),
    ("b = {c}", 0.01, True),
    ("a < 1", 0.001, True),
    ("a < 500 AND b = {c}", 0.005, True),
    # IN lists and null tests (index conditions through vecx's planner hook
    # and the AMs' array and null keys)
    ("b IN ({c}, 3, 97)", 0.03, True),
    ("a = ANY ('{{1,17,NULL,400,999}}'::int[]) OR a IS NULL", 0.025, False),
    ("b = ANY ('{{{c}}}'::int[]) AND a IS NOT NULL", 0.01, True),
    ("a IS NULL", 0.02, True),
    # Not index conditions: the executor drops rows the index returned,
    # which is what makes an ordered scan continue past ef_search.
    ("(a % 10) = 3", 0.1, False),
    ("(a + b) % 100 = 7", 0.01, False),
]


@dataclass
class Query:
    qkind: str          # random, row, zero, far, null
    qvec: list          # None for null
    filt: str           # SQL condition or None
    sel: float          # nominal selectivity of filt
    limit: object       # None (no LIMIT), or an int; "more" resolved to an int
    limit_kind: str     # none, 1, k, more
    mode: str           # plain, cursor, generic
    fetch: int = 7      # cursor step
    limit_param: bool = False   # generic plan: LIMIT $2 instead of a literal
    # range search (WITHIN_FNS): the radius is the distance of the row at
    # this share of the matching rows by distance (run.py resolves it);
    # alone: no ORDER BY
    radius_share: object = None
    radius: object = None
    alone: bool = False

    def describe(self):
        lim = "none" if self.limit is None else "%s=%d" % (self.limit_kind, self.limit)
        s = "q=%s filt=%s limit=%s mode=%s" % (self.qkind, self.filt or "-", lim, self.mode)
        if self.mode == "cursor":
            s += "/fetch%d" % self.fetch
        if self.limit_param:
            s += "/limit$2"
        if self.radius_share is not None:
            s += " range(share=%s r=%r%s)" % (self.radius_share, self.radius,
                                                ",alone" if self.alone else "")
        return s


@dataclass
class Case:
    seed: int
    am: str
    metric: str
    typ: str            # vector or halfvec
    dims: int
    shape: str
    nrows: int
    null_frac: float
    zero_frac: float
    reloptions: dict
    filter_cols: list   # index key columns after the vector
    settings: dict      # session settings of the index path
    build_then_insert: bool   # index built on part of the rows, rest inserted
    delete_frac: float        # rows deleted after the index build (then maybe VACUUM)
    vacuum: bool
    rows: list = field(repr=False, default_factory=list)   # (id, a, b, vec or None)
    queries: list = field(repr=False, default_factory=list)
    # sparsevec: the dimensions that may be non-zero (a set), and whether
    # elements are also dropped one by one; bit: the threshold of a 1
    keep: object = field(repr=False, default=None)
    drop: bool = False
    threshold: float = 0.5
    range_used: int = 0     # run.py: range queries the index answered
    range_rows: int = 0     # and their rows

    @property
    def op(self):
        return OPS[self.metric]

    @property
    def sqltype(self):
        """The SQL type of vectors (a plain "bit" would be bit(1))."""
        return "bit(%d)" % self.dims if self.typ == "bit" else self.typ

    def convert(self, v):
        """A dense vector of the shape in this case's type; idempotent, so a
        row's vector converted again (a "row" query) is the row's vector."""
        if v is None or isinstance(v, str) or self.typ in ("vector", "halfvec"):
            return v
        if self.typ == "bit":
            return [1.0 if x > self.threshold else 0.0 for x in v]
        out = [x if j in self.keep else 0.0 for j, x in enumerate(v)]
        if self.drop:
            # deterministic in (position, value): idempotent, and copies
            # of one vector stay copies
            out = [0.0 if int(abs(x) * 1e6 + j * 7919) % 10 < 3 else x
                   for j, x in enumerate(out)]
        return out

    @property
    def opclass(self):
        return "%s_%s_ops" % (self.typ, self.metric)

    def describe(self):
        rel = ",".join("%s=%s" % kv for kv in self.reloptions.items())
        st = ",".join("%s=%s" % kv for kv in self.settings.items()) or "defaults"
        extra = ""
        if self.build_then_insert:
            extra += " build+insert"
        if self.delete_frac:
            extra += " delete=%.2f%s" % (self.delete_frac, "+vacuum" if self.vacuum else "")
        return ("seed=%d %s %s(%d) %s rows=%d shape=%s null=%.2f zero=%.2f "
                "with(%s) filtercols=%s settings[%s]%s"
                % (self.seed, self.am, self.typ, self.dims, self.opclass, self.nrows,
                   self.shape, self.null_frac, self.zero_frac, rel,
                   "+".join(self.filter_cols) or "-", st, extra))


def _dims(r):
    x = r.random()
    if x < 0.45:
        return r.choice([1, 2, 3])
    if x < 0.9:
        return r.choice([4, 5, 8, 16, 24, 32, 64])
    # Large vectors: hnsw keeps them in overflow pages beyond a page.
    return r.choice([2000, 2001, 2048, 2300])


def _nrows(r, dims):
    if dims >= 2000:
        return r.choice([0, 1, 2, 5, r.randint(10, 80)])
    x = r.random()
    if x < 0.12:
        return r.choice([0, 1, 2, 5])
    if x < 0.45:
        return r.randint(10, 300)
    if x < 0.93:
        return r.randint(300, 2500)
    return r.randint(3000, 6000) if dims <= 16 else r.randint(300, 2500)


def _vectors(r, shape, dims, n):
    """n vectors of the shape (lists of floats)."""
    if shape == "uniform":
        lo, hi = r.choice([(-1.0, 1.0), (0.0, 1.0), (-100.0, 100.0)])
        return [[r.uniform(lo, hi) for _ in range(dims)] for _ in range(n)]
    if shape == "clustered":
        ncent = r.randint(1, 12)
        cents = [[r.uniform(-10, 10) for _ in range(dims)] for _ in range(ncent)]
        sigma = r.choice([0.01, 0.1, 1.0])
        out = []
        for _ in range(n):
            c = r.choice(cents)
            out.append([x + r.gauss(0, sigma) for x in c])
        return out
    if shape == "grid":
        # Small integer grids: many rows at exactly equal distances.
        lo, hi = r.choice([(0, 1), (0, 3), (-2, 2), (0, 9)])
        return [[float(r.randint(lo, hi)) for _ in range(dims)] for _ in range(n)]
    if shape == "duplicates":
        # Many copies of few vectors: more copies than an hnsw node holds.
        nd = r.randint(1, 5)
        base = [[float(round(r.uniform(-5, 5), 2)) for _ in range(dims)] for _ in range(nd)]
        return [list(r.choice(base)) for _ in range(n)]
    raise ValueError(shape)


def _bits(r, shape, dims, n):
    """n bit strings of the shape ('0'/'1' text, as bit(n) reads it)."""
    if shape in ("uniform", "grid"):
        p = r.choice([0.1, 0.3, 0.5])
        return ["".join("1" if r.random() < p else "0" for _ in range(dims)) for _ in range(n)]
    if shape == "clustered":
        cents = [[r.random() < 0.5 for _ in range(dims)] for _ in range(r.randint(1, 12))]
        flip = r.choice([0.01, 0.05, 0.2])
        return ["".join("1" if (b != (r.random() < flip)) else "0" for b in r.choice(cents))
                for _ in range(n)]
    if shape == "duplicates":
        base = ["".join(r.choice("01") for _ in range(dims)) for _ in range(r.randint(1, 5))]
        return [r.choice(base) for _ in range(n)]
    raise ValueError(shape)


def _settings(r, am, nrows):
    """Session settings of the index path; keys are GUC names."""
    s = {}
    if am == "ivfflat":
        # the reference's defaults: probes 1, iterative_scan off
        v = r.choice(["default", "probes", "probes", "all", "relaxed", "strict", "maxprobes"])
        if v == "probes":
            s["ivfflat.probes"] = r.randint(2, 12)
        if v == "all":
            s["ivfflat.probes"] = 30    # every list of any case: exact
        if v in ("relaxed", "strict", "maxprobes"):
            s["ivfflat.iterative_scan"] = r.choice(["relaxed_order", "strict_order"]) \
                if v == "maxprobes" else v + "_order"
            if r.random() < 0.5:
                s["ivfflat.probes"] = r.randint(1, 4)
        if v == "maxprobes":
            s["ivfflat.max_probes"] = r.randint(1, 3)
        if v == "default" and r.random() < 0.3:
            s["ivfflat.iterative_scan"] = "off"     # explicitly
        return s
    if am == "hnsw":
        v = r.choice(["default", "default", "ef", "relaxed", "off", "nofallback",
                      "maxtuples", "cache", "cache_ef", "workmem"])
        if v in ("ef", "cache_ef"):
            s["hnsw.ef_search"] = r.randint(1, 10)
        if v == "relaxed":
            s["hnsw.iterative_scan"] = "relaxed_order"
        if v == "off":
            s["hnsw.iterative_scan"] = "off"
        if v == "nofallback":
            s["hnsw.exact_fallback"] = "off"
        if v == "maxtuples":
            # A small budget forces the exact pass after a short walk.
            s["hnsw.max_scan_tuples"] = r.randint(1, 100)
            if r.random() < 0.5:
                s["hnsw.ef_search"] = r.randint(1, 10)
        if v in ("cache", "cache_ef"):
            s["hnsw.cache_size"] = "'64MB'"
            if r.random() < 0.3:
                s["hnsw.max_scan_tuples"] = r.randint(1, 100)
        if v == "workmem":
            # The iterative scan's memory bound (work_mem * multiplier).
            s["work_mem"] = "'64kB'"
            s["hnsw.ef_search"] = r.choice([1, 40, 200])
        if r.random() < 0.15 and "hnsw.iterative_scan" not in s:
            s["hnsw.iterative_scan"] = "strict_order"    # explicitly, as users write it
    else:
        v = r.choice(["default", "default", "probes", "relaxed", "off", "maxprobes", "rerank"])
        if v in ("probes", "off"):
            s["ivfpq.probes"] = r.randint(2, 12)
        if v == "off":
            s["ivfpq.iterative_scan"] = "off"
            if r.random() < 0.5:
                s["ivfpq.probes"] = 1
        if v == "relaxed":
            s["ivfpq.iterative_scan"] = "relaxed_order"
            if r.random() < 0.5:
                s["ivfpq.probes"] = r.randint(1, 4)
        if v == "maxprobes":
            s["ivfpq.max_probes"] = r.randint(1, 3)
        if v == "rerank":
            s["ivfpq.rerank"] = r.randint(1, 10)
        # the certified order: a sequential scan's answer
        if v not in ("off", "relaxed") and r.random() < 0.35:
            s["ivfpq.exact_order"] = "on"
    return s


def _reloptions(r, am, dims, nrows):
    if am == "ivfflat":
        return {"lists": r.choice([1, 2, 4, 8, 30])}
    if am == "hnsw":
        m = r.choice([2, 4, 8, 16])
        # ef_construction must be at least 2 * m.
        o = {"m": m, "ef_construction": max(2 * m, r.choice([4, 16, 64]))}
        if r.random() < 0.3:
            o["quantization"] = "sq8"
        return o
    o = {"lists": r.choice([1, 2, 4, 8, 30])}
    if r.random() < 0.3:
        o["pq_bits"] = 8
    if r.random() < 0.3:
        o["pq_m"] = r.randint(1, min(dims, 8))
    return o


def _query_vector(r, case, kind):
    if kind == "null":
        return None
    if case.typ == "bit" and case.am == "ivfflat":
        if kind == "zero":
            return "0" * case.dims
        if kind == "far":
            return "1" * case.dims
        vs = [row[3] for row in case.rows if row[3] is not None]
        if kind == "row" and vs:
            return r.choice(vs)
        return _bits(r, case.shape, case.dims, 1)[0]
    if kind == "zero":
        return [0.0] * case.dims
    if kind == "row":
        vs = [row[3] for row in case.rows if row[3] is not None]
        if vs:
            return list(r.choice(vs))
        kind = "random"
    if kind == "far":
        return [r.uniform(1000, 2000) * r.choice([-1, 1]) for _ in range(case.dims)]
    return _vectors(r, case.shape if case.shape != "duplicates" else "uniform", case.dims, 1)[0]


def _queries(r, case):
    nq = r.randint(6, 9)
    if "hnsw.cache_size" in case.settings:
        nq = 14     # copies are taken only after enough buffer walks
    out = []
    for _ in range(nq):
        mode = r.choices(["plain", "cursor", "generic"], [5, 2, 3])[0]
        kinds = ["random", "random", "row", "far", "zero"]
        if mode == "generic":
            kinds.append("null")     # a NULL parameter needs a generic plan
        qkind = r.choice(kinds)
        if case.metric == "cosine" and r.random() < 0.1:
            qkind = "zero"
        tmpl, sel, _ = r.choice(FILTERS)
        filt = tmpl.format(c=r.randrange(100)) if tmpl else None
        lk = r.choice(["none", "1", "k", "k", "more"])
        limit = {"none": None, "1": 1, "k": r.choice([2, 5, 10, 40, 100]),
                 "more": case.nrows + r.randint(1, 10)}[lk]
        q = Query(qkind=qkind, qvec=_query_vector(r, case, qkind), filt=filt, sel=sel,
                  limit=limit, limit_kind=lk, mode=mode)
        if mode == "cursor":
            q.fetch = r.choice([1, 7, 7, 13, 50])
        if mode == "generic" and limit is not None:
            q.limit_param = r.random() < 0.5
        out.append(q)
    return out


# Range search: the function of each metric (vector only)
WITHIN_FNS = {"l2": "l2_within", "ip": "ip_within", "cosine": "cosine_within",
              "l1": "l1_within"}
RANGE_SHARE = 0.5       # of the vector cases with a within function


def _range_queries(seed, case):
    """
    Range queries of a case, from a random stream of their own (every other
    query of the seed is what it was before them): a within-function in
    WHERE, alone or with ORDER BY (and maybe LIMIT), maybe with a filter.
    """
    r = random.Random(seed * 40503 + 99)
    if case.typ != "vector" or case.metric not in WITHIN_FNS or r.random() >= RANGE_SHARE:
        return []
    out = []
    for _ in range(r.randint(2, 4)):
        qkind = r.choice(["random", "random", "row", "far", "zero"])
        alone = r.random() < 0.5
        tmpl, sel, _ = r.choice(FILTERS) if r.random() < 0.3 else (None, 1.0, True)
        filt = tmpl.format(c=r.randrange(100)) if tmpl else None
        lk = "none" if alone else r.choice(["none", "k"])
        limit = r.choice([1, 5, 40]) if lk == "k" else None
        q = Query(qkind=qkind, qvec=case.convert(_query_vector(r, case, qkind)), filt=filt,
                  sel=sel, limit=limit, limit_kind=lk, mode="plain",
                  radius_share=r.choice([0.0, 0.01, 0.05, 0.2, 0.6, 1.0]), alone=alone)
        out.append(q)
    return out


def make_case(seed):
    """The case of this seed: rows, index, settings and queries."""
    r = random.Random(seed)
    if random.Random(seed * 7919 + 17).random() < IVFFLAT_SHARE:
        am = "ivfflat"
        metric = r.choice(AM_METRICS[am])
        typ = "bit" if metric == "hamming" else r.choice(["vector", "halfvec"])
        if typ == "bit":
            dims = r.choice([1, 3, 8, 33, 64, 100, 256, 1000, 3000])
        else:
            # an entry holds the whole vector: at most 2000 (vector) dims
            dims = min(_dims(r), 2000 if typ == "vector" else 4000)
    else:
        am = r.choice(["hnsw", "ivfpq"])
        metric = r.choice(AM_METRICS[am])
        typ = r.choice(["vector", "halfvec"])
        dims = _dims(r)
    nrows = _nrows(r, dims)
    shape = r.choice(SHAPES)
    null_frac = r.choice([0.0, 0.0, 0.02, 0.2])
    zero_frac = r.choice([0.0, 0.0, 0.02, 0.1]) if metric == "cosine" or r.random() < 0.2 else 0.0
    filter_cols = r.choice([[], [], ["a"], ["b"], ["a", "b"]])
    if am == "ivfflat":
        filter_cols = []    # one column, as the reference's
    case = Case(seed=seed, am=am, metric=metric, typ=typ, dims=dims, shape=shape,
                nrows=nrows, null_frac=null_frac, zero_frac=zero_frac,
                reloptions=_reloptions(r, am, dims, nrows), filter_cols=filter_cols,
                settings=_settings(r, am, nrows),
                build_then_insert=nrows > 2 and r.random() < 0.2,
                delete_frac=r.choice([0.0] * 6 + [0.1, 0.5]) if nrows > 2 else 0.0,
                vacuum=r.random() < 0.5)
    if "hnsw.cache_size" in case.settings and r.random() < 0.7:
        # Graph copies serve only indexes without filter columns.
        case.filter_cols = []
    r2 = random.Random(seed * 2654435761 + 12345)
    if am == "hnsw" and r2.random() < SPARSE_BIT_SHARE:
        case.typ = r2.choice(["sparsevec", "bit"])
        # neither can be quantized
        case.reloptions.pop("quantization", None)
        if case.typ == "bit":
            case.metric = r2.choice(["hamming", "jaccard"])
            case.threshold = r2.choice([0.0, 0.5, 0.9])
            case.zero_frac = r2.choice([0.0, 0.02, 0.1])
        else:
            # few non-zero elements: at most about 60 of 2,000-2,300 dims
            share = r2.choice([0.05, 0.2, 0.5, 1.0]) if dims < 2000 else 0.025
            case.keep = {j for j in range(dims) if r2.random() < share} or {r2.randrange(dims)}
            case.drop = shape != "duplicates" and r2.random() < 0.5
    vecs = (_bits(r, shape, dims, nrows) if typ == "bit"
            else [case.convert(v) for v in _vectors(r, shape, dims, nrows)])
    for i, v in enumerate(vecs):
        x = r.random()
        if x < null_frac:
            v = None
        elif x < null_frac + zero_frac:
            v = "0" * dims if typ == "bit" else [0.0] * dims
        a = None if r.random() < 0.02 else r.randrange(1000)
        b = None if r.random() < 0.02 else r.randrange(100)
        case.rows.append((i + 1, a, b, v))
    case.queries = _queries(r, case)
    for q in case.queries:
        q.qvec = case.convert(q.qvec)
    case.queries += _range_queries(seed, case)
    return case


def vec_literal(v, typ="vector"):
    """Text form of a vector; halfvec rounds it on input on both paths alike."""
    if v is None:
        return None
    if isinstance(v, str):
        return v    # a bit string (ivfflat cases)
    if typ == "bit":
        return "".join("1" if x else "0" for x in v)
    if typ == "sparsevec":
        return "{%s}/%d" % (",".join("%d:%s" % (j + 1, _num(x)) for j, x in enumerate(v) if x),
                            len(v))
    return "[" + ",".join(_num(x) for x in v) + "]"


def _num(x):
    if x == 0:
        return "0"
    if math.isfinite(x) and x == int(x) and abs(x) < 1e9:
        return str(int(x))
    return "%.7g" % x
