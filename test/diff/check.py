# check.py: what an index scan promises, and the comparison of its rows with
# the oracle (a sequential scan of the same query).
#
# Rows are (id, distance) pairs.  The distance is the SQL operator's value
# computed by the executor on both paths, so floats compare exactly.  The
# oracle holds every matching row the index can return (NULL vectors and,
# for cosine, zero vectors are never indexed), without a LIMIT, so one
# oracle answers every LIMIT and the checks can look past the first k.
#
# Order is judged with a small tolerance: an index that is not lossy orders
# rows by the distance it computes itself (cosine: on normalized vectors),
# which can differ from the SQL operator's value in the last bits (seen:
# 0.2928932188134524 returned after 0.29289321881345254).  That is rounding,
# not a lost or misplaced row; a real misorder is far larger than TOL times
# the scale of the distances.
TOL = 1e-6

import math
from collections import Counter

# Promises, strongest first.
EXACT = "exact"                  # ivfpq strict_order + exact_order: the exact
                                 # top k, ordered
ONE_STEP = "one-step"            # strict_order (hnsw with the exact fallback,
                                 # ivfpq): complete, ordered but for one step
                                 # down into the exact pass
COMPLETE = "complete"            # relaxed_order: k rows whenever k match, any order
UNORDERED = "complete-unordered"  # NULL or zero (cosine) query: every distance
                                  # is NULL/NaN, so all matching rows, any order
SORTED = "sorted-subset"         # ivfpq iterative_scan = off: fewer rows allowed,
                                 # but in exact order (re-ranked by the executor)
SUBSET = "subset"                # hnsw iterative off / no fallback: no duplicates,
                                 # no more rows than match


def promise(case, query):
    """What the index path of this query must satisfy under the case's settings."""
    s = case.settings
    if case.am == "ivfflat":
        # exact distances from the lists: the probed lists' rows come in
        # exact order; max_probes ends an iterative scan (the reference's
        # meaning), so a stopped scan may return fewer rows
        mode = s.get("ivfflat.iterative_scan", "off")
        probes = int(s.get("ivfflat.probes", 1))
        if probes >= case.reloptions["lists"]:
            p = EXACT       # every list in the first round
        elif mode == "off":
            p = SORTED
        elif int(s.get("ivfflat.max_probes", 32768)) < case.reloptions["lists"]:
            p = SUBSET
        elif mode == "relaxed_order":
            p = COMPLETE
        else:
            p = ONE_STEP
    elif case.am == "hnsw":
        mode = s.get("hnsw.iterative_scan", "strict_order")
        if mode == "off" or s.get("hnsw.exact_fallback") == "off":
            p = SUBSET
        elif mode == "relaxed_order":
            p = COMPLETE
        else:
            p = ONE_STEP
        if p == ONE_STEP and _walk_is_exhaustive(case):
            p = EXACT
    else:
        mode = s.get("ivfpq.iterative_scan", "strict_order")
        if mode == "off":
            p = SORTED
        elif mode == "relaxed_order":
            p = COMPLETE
        elif s.get("ivfpq.exact_order") == "on":
            p = EXACT
        else:
            p = ONE_STEP
    if query.radius_share is not None:
        # range search: the rows within the radius; in the iterative modes
        # ivfpq and ivfflat read lists until none can hold one (exact)
        if case.am != "hnsw" and p in (ONE_STEP, COMPLETE, SUBSET) and not \
                (case.am == "ivfflat" and case.settings.get("ivfflat.iterative_scan", "off") == "off"):
            p = EXACT
        if query.alone:
            p = UNORDERED if p in (EXACT, ONE_STEP, COMPLETE) else SUBSET
    if is_degenerate_query(case, query) and p != SUBSET:
        return UNORDERED if p != SORTED else SUBSET
    return p


def _walk_is_exhaustive(case):
    """
    With at most ef_search nodes in the graph the first batch never fills
    its result set, so the walk expands every node it can reach and returns
    them all in exact order; every node of a graph this small is reachable
    (2m links at level 0, vacuum repairs reachability).  So the scan is
    exact unless a budget cuts the walk short.  This is what catches a walk
    that emits a row early: elsewhere the one-step promise cannot tell it
    from a row found late.
    """
    s = case.settings
    if "hnsw.max_scan_tuples" in s or "work_mem" in s:
        return False
    # inner product is no metric: a small-norm vector can be left without
    # in-links (src/am/hnsw/README, known gaps), so a walk may miss it
    # until the exact pass (seed 233066631: 13 rows, m = 4, one step back)
    if case.metric == "ip":
        return False
    return case.nrows <= int(s.get("hnsw.ef_search", 40))


def is_degenerate_query(case, query):
    """A query whose distances are all NULL (NULL vector) or NaN (cosine, zero)."""
    if query.qvec is None:
        return True
    return case.metric == "cosine" and not any(query.qvec)


def _key(d):
    """A hashable stand-in for a distance: NaN != NaN would break Counters."""
    if d is None:
        return "NULL"
    if isinstance(d, float) and math.isnan(d):
        return "NaN"
    return d


def _order_key(d):
    # Only used to rank the oracle; NULL and NaN sort last, as in SQL.
    k = _key(d)
    return (1, 0.0) if isinstance(k, str) else (0, k)


def check(p, got, oracle, limit):
    """Problems (strings) of the index path's rows against the oracle's."""
    problems = []
    want = len(oracle) if limit is None else min(limit, len(oracle))
    tol = _tolerance(oracle)
    odist = {i: _key(d) for i, d in oracle}

    ids = [i for i, _ in got]
    dups = [i for i, c in Counter(ids).items() if c > 1]
    if dups:
        problems.append("rows returned twice: ids %s" % _few(sorted(dups)))
    stray = [i for i in ids if i not in odist]
    if stray:
        problems.append("rows that do not match (or are not indexed): ids %s" % _few(stray))
    wrong = [(i, d) for i, d in got if i in odist and odist[i] != _key(d)]
    if wrong:
        problems.append("distances differ from the oracle's: %s" % _few(wrong))
    if len(got) > want:
        problems.append("%d rows, more than the %d that match" % (len(got), want))
    if problems:
        return problems

    if p in (EXACT, ONE_STEP, COMPLETE, UNORDERED) and len(got) != want:
        problems.append("%d rows, expected %d (%d match)" % (len(got), want, len(oracle)))
        _missing(problems, got, oracle, limit)
    dist = [_key(d) for _, d in got]
    if p in (EXACT, SORTED):
        i = _first_step_down(dist, tol)
        if i is not None:
            problems.append("not ordered: row %d at %r after %r" % (i, dist[i], dist[i - 1]))
    if p == EXACT and not problems:
        top = sorted((_key(d) for _, d in oracle), key=_order_key)[:want]
        if not _same_distances(dist, top, tol):
            problems.append("distances are not the exact top %d: %s" % (want, _multiset_diff(dist, top)))
    if p == ONE_STEP:
        problems.extend(_check_one_step(got, oracle, tol))
    return problems


def _tolerance(oracle):
    scale = max((abs(k) for k in (_key(d) for _, d in oracle) if not isinstance(k, str)), default=1.0)
    return TOL * max(1.0, scale)


def _same_distances(got, want, tol):
    """Equal multisets of distances, each pair within tol (both sorted)."""
    if len(got) != len(want):
        return False
    for g, w in zip(sorted(got, key=_order_key), sorted(want, key=_order_key)):
        if isinstance(g, str) or isinstance(w, str):
            if g != w:
                return False
        elif abs(g - w) > tol:
            return False
    return True


def _check_one_step(got, oracle, tol):
    """
    hnsw strict_order: a run in order (the graph walk), then possibly a second
    run that starts lower (the exact pass), which must be the closest of the
    matching rows the first run did not return.
    """
    dist = [_key(d) for _, d in got]
    i = _first_step_down(dist, tol)
    if i is None:
        return []
    j = _first_step_down(dist[i:], tol)
    if j is not None:
        return ["more than one step down: rows %d (%r after %r) and %d (%r after %r)"
                % (i, dist[i], dist[i - 1], i + j, dist[i + j], dist[i + j - 1])]
    first = {rid for rid, _ in got[:i]}
    rest = sorted((_key(d) for rid, d in oracle if rid not in first), key=_order_key)
    want = rest[:len(got) - i]
    if not _same_distances(dist[i:], want, tol):
        return ["after the step down at row %d the rows are not the closest of the rest: %s"
                % (i, _multiset_diff(dist[i:], want))]
    return []


def recall(got, oracle, limit):
    """(hits, k) for a LIMIT k query with more than k matching rows: how many
    returned rows are within the exact k nearest (by distance, so ties count
    either way); None when every matching row is wanted anyway.  The runner
    sums these over the cases that search at default quality: a scan that
    emits rows early or drops some still keeps every promise above on many
    queries, but its recall falls."""
    if limit is None or limit >= len(oracle) or limit == 0:
        return None
    ranked = sorted((_key(d) for _, d in oracle), key=_order_key)
    kth = ranked[limit - 1]
    if isinstance(kth, str):
        return None
    tol = _tolerance(oracle)
    hits = sum(1 for _, d in got[:limit]
               if not isinstance(_key(d), str) and _key(d) <= kth + tol)
    return min(hits, limit), limit


def steps_down(got, oracle):
    """Whether the distances of these rows ever decrease (hnsw: an exact pass
    that began below the walk's last row); counted to show the one-step check
    is exercised."""
    return _first_step_down([_key(d) for _, d in got], _tolerance(oracle)) is not None


def _first_step_down(dist, tol):
    """The first row more than tol below the row before it."""
    for i in range(1, len(dist)):
        a, b = dist[i - 1], dist[i]
        if isinstance(a, str) or isinstance(b, str):
            continue
        if a - b > tol:
            return i
    return None


def _missing(problems, got, oracle, limit):
    """Name the closest rows the index path left out (helps replaying)."""
    have = {i for i, _ in got}
    ranked = sorted(oracle, key=lambda r: (_order_key(r[1]), r[0]))
    if limit is not None:
        # Any row tied with the k-th could stand in for another: only report
        # rows strictly closer than the k-th, where "missing" is certain.
        if limit < len(ranked):
            kth = _order_key(ranked[limit - 1][1])
            ranked = [r for r in ranked if _order_key(r[1]) < kth]
    miss = [(i, d) for i, d in ranked if i not in have]
    if miss:
        problems.append("missing (id, distance), closest first: %s" % _few(miss))


def _multiset_diff(got, want):
    g, w = Counter(got), Counter(want)
    extra = sorted((g - w).elements(), key=_order_key)
    lack = sorted((w - g).elements(), key=_order_key)
    return "extra %s, lacking %s" % (_few(extra), _few(lack))


def _few(xs, n=6):
    xs = list(xs)
    s = ", ".join(str(x) for x in xs[:n])
    return s + (" ... (%d in all)" % len(xs) if len(xs) > n else "")
