"""Capacitated assignment of recipients to food stalls, on arrays: no database here.

The rebalance is a min-cost flow (OR-Tools' ``SimpleMinCostFlow``): source -> recipient (1) ->
stall within reach (1) -> sink (the stall's capacity). Its priorities, in order:

1. cover as many recipients as can be covered (a maximum flow);
2. never take a place from someone who has one to give it to someone else: a recipient already
   with an eligible stall within reach stays covered (a bonus on their source arc that outweighs
   any distance);
3. the least total distance;
4. among equal distances, keep people where they are (a 1-unit tie-break on new arcs).

Comparing every recipient with every stall does not scale (50,000 x 2,000 pairs), so a k-d tree
picks each recipient's ``k`` nearest stalls within reach, and recipients that end up without a
stall are given every stall within reach in a second solve. Distances for the optimisation come
from a local ellipsoidal approximation computed with numpy, which agrees with geopy's geodesic to
within a millimetre at these ranges; the distances stored and shown are geopy's (see ``geo``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order
from scipy.spatial import cKDTree

from service import geo
from service.geo import distance_m

_REACH_MARGIN = geo.SPHERE_MARGIN
UNASSIGNED = -1


@dataclass
class Problem:
    """Recipients and stalls as arrays; ``current[i]`` is recipient i's stall index or -1."""

    r_lat: np.ndarray
    r_lon: np.ndarray
    v_lat: np.ndarray
    v_lon: np.ndarray
    capacity: np.ndarray
    max_m: float
    current: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.r_lat)

    @property
    def m(self) -> int:
        return len(self.v_lat)

    def current_or_none(self) -> np.ndarray:
        return self.current if self.current is not None else np.full(self.n, UNASSIGNED, dtype=np.int64)


@dataclass
class Edges:
    """Candidate pairs: recipient index, stall index, distance in metres."""

    rec: np.ndarray
    ven: np.ndarray
    dist: np.ndarray

    @classmethod
    def empty(cls) -> Edges:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, float))

    def __len__(self) -> int:
        return len(self.rec)

    def plus(self, other: Edges) -> Edges:
        """Both sets of pairs, each pair once."""
        rec = np.concatenate((self.rec, other.rec))
        ven = np.concatenate((self.ven, other.ven))
        dist = np.concatenate((self.dist, other.dist))
        _, first = np.unique(rec * (max(ven.max(initial=0), 0) + 1) + ven, return_index=True)
        return Edges(rec[first], ven[first], dist[first])


def _edges(problem: Problem, rec: np.ndarray, ven: np.ndarray) -> Edges:
    """The pairs among ``rec``/``ven`` that are truly within reach, with their distances."""
    dist = distance_m(problem.r_lat[rec], problem.r_lon[rec], problem.v_lat[ven], problem.v_lon[ven])
    keep = dist <= problem.max_m
    return Edges(rec[keep], ven[keep], dist[keep])


class Index:
    """A k-d tree over the stalls, for "the stalls near this recipient"."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.tree = cKDTree(geo.sphere_xyz(problem.v_lat, problem.v_lon)) if problem.m else None
        self.r_xyz = geo.sphere_xyz(problem.r_lat, problem.r_lon) if problem.n else np.empty((0, 3))

    def nearest(self, k: int, recipients: np.ndarray | None = None) -> Edges:
        """Each recipient's ``k`` nearest stalls that are within reach."""
        p = self.problem
        rows = np.arange(p.n) if recipients is None else recipients
        if self.tree is None or not len(rows):
            return Edges.empty()
        k = min(k, p.m)
        _, idx = self.tree.query(self.r_xyz[rows], k=k, distance_upper_bound=p.max_m * _REACH_MARGIN)
        idx = idx.reshape(len(rows), k)
        found = idx < p.m  # missing neighbours come back as m
        rec = np.repeat(rows, k).reshape(len(rows), k)[found]
        return _edges(p, rec.astype(np.int64), idx[found].astype(np.int64))

    def within_reach(self, recipients: np.ndarray | None = None) -> Edges:
        """Every stall within reach of each recipient (the exact candidate set)."""
        p = self.problem
        rows = np.arange(p.n) if recipients is None else recipients
        if self.tree is None or not len(rows):
            return Edges.empty()
        pairs = cKDTree(self.r_xyz[rows]).sparse_distance_matrix(
            self.tree, p.max_m * _REACH_MARGIN, output_type="ndarray")
        return _edges(p, rows[pairs["i"]].astype(np.int64), pairs["j"].astype(np.int64))

    def current(self) -> Edges:
        """The pairs recipients are in now, where still within reach."""
        cur = self.problem.current_or_none()
        rec = np.flatnonzero(cur >= 0)
        return _edges(self.problem, rec, cur[rec])


def greedy(problem: Problem, edges: Edges, order: np.ndarray | None = None) -> np.ndarray:
    """Each recipient in turn (``order``, default by index) takes its nearest stall with room."""
    load = np.zeros(problem.m, dtype=np.int64)
    capacity = problem.capacity
    result = np.full(problem.n, UNASSIGNED, dtype=np.int64)
    sort = np.lexsort((edges.dist, edges.rec))
    rec, ven = edges.rec[sort], edges.ven[sort]
    starts = np.searchsorted(rec, np.arange(problem.n + 1))
    for i in (range(problem.n) if order is None else order):
        for v in ven[starts[i]:starts[i + 1]]:
            if load[v] < capacity[v]:
                load[v] += 1
                result[i] = v
                break
    return result


def min_cost_flow_assign(problem: Problem, edges: Edges, protect: bool = True) -> np.ndarray:
    """The optimal assignment over ``edges`` (see the module's priorities); without ``protect``,
    priority 2 is left out (a smaller cost range, which the solver handles twice as fast)."""
    n, m = problem.n, problem.m
    result = np.full(n, UNASSIGNED, dtype=np.int64)
    if not len(edges):
        return result
    current = problem.current_or_none()
    # Costs in decimetres, doubled so that a 1-unit tie-break never outweighs a real difference.
    cost = np.rint(edges.dist * 10).astype(np.int64) * 2
    staying = current[edges.rec] == edges.ven
    cost += np.where(staying, 0, 1)
    covered_now = np.zeros(n, dtype=bool)
    covered_now[edges.rec[staying]] = True
    # Dropping one covered recipient must cost more than any saving in distance could win back.
    keep_bonus = (int(cost.max()) + 1) * (n + 1)

    source, sink = n + m, n + m + 1
    rec_nodes = np.arange(n, dtype=np.int64)
    tails = np.concatenate((np.full(n, source), edges.rec, n + np.arange(m)))
    heads = np.concatenate((rec_nodes, n + edges.ven, np.full(m, sink)))
    capacities = np.concatenate((np.ones(n, np.int64), np.ones(len(edges), np.int64), problem.capacity))
    bonus = np.where(covered_now & protect, -keep_bonus, 0)
    costs = np.concatenate((bonus, cost, np.zeros(m, np.int64)))

    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), capacities.astype(np.int64), costs.astype(np.int64))
    flow.set_node_supply(source, n)
    flow.set_node_supply(sink, -n)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow did not solve: {status!r}")
    edge_arcs = arcs[n:n + len(edges)]
    used = flow.flows(edge_arcs) > 0
    result[edges.rec[used]] = edges.ven[used]
    return result


def can_cover_more(problem: Problem, edges: Edges, assignment: np.ndarray) -> bool:
    """Whether some uncovered recipient has an augmenting path over ``edges``: a chain of
    recipients each moving to another of their stalls that ends at a stall with room. Without
    one, no assignment over these edges covers more (the max-flow min-cut theorem)."""
    n, m = problem.n, problem.m
    left = np.flatnonzero(assignment == UNASSIGNED)
    if not len(left) or not len(edges):
        return False
    sink, source = n + m, n + m + 1
    placed = np.flatnonzero(assignment >= 0)
    load = np.bincount(assignment[placed], minlength=m)
    unused = assignment[edges.rec] != edges.ven
    roomy = np.flatnonzero(load < problem.capacity)
    tails = np.concatenate((edges.rec[unused], n + assignment[placed], n + roomy, np.full(len(left), source)))
    heads = np.concatenate((n + edges.ven[unused], placed, np.full(len(roomy), sink), left))
    graph = csr_matrix((np.ones(len(tails), dtype=np.int8), (tails, heads)), shape=(n + m + 2, n + m + 2))
    reached = breadth_first_order(graph, source, directed=True, return_predecessors=False)
    return bool(np.isin(sink, reached))


def _solve(problem: Problem, edges: Edges) -> np.ndarray:
    """Solve without protecting current places; again with it only if someone lost theirs."""
    result = min_cost_flow_assign(problem, edges, protect=False)
    current = problem.current_or_none()
    staying = current[edges.rec] == edges.ven
    if np.any(result[edges.rec[staying]] == UNASSIGNED):
        result = min_cost_flow_assign(problem, edges, protect=True)
    return result


def rebalance(problem: Problem, k: int = 30) -> np.ndarray:
    """The rebalance: min-cost flow over each recipient's ``k`` nearest stalls and current one.
    Recipients it leaves without a stall are then given every stall within reach, and it is
    solved again if that lets more be covered."""
    index = Index(problem)
    edges = index.nearest(k).plus(index.current())
    result = _solve(problem, edges)
    left = np.flatnonzero(result == UNASSIGNED)
    if len(left):
        wider = edges.plus(index.within_reach(left))
        if can_cover_more(problem, wider, result):
            result = _solve(problem, wider)
    return result


def total_distance_m(problem: Problem, assignment: np.ndarray) -> float:
    placed = np.flatnonzero(assignment >= 0)
    v = assignment[placed]
    return float(distance_m(problem.r_lat[placed], problem.r_lon[placed], problem.v_lat[v], problem.v_lon[v]).sum())
