"""Perfect-foresight MILP of a fleet episode: the env's equations, written for HiGHS.

Maximises the episode's money (the env's total reward), with ``x[t,i,m]`` only where asset ``i`` is
prequalified in market ``m``:

    sum_{t,i,m} dir[m] * price[t,m] / 1000 * dt * x[t,i,m] - sum_{t,i} wear[i] * dt * (c[t,i] + d[t,i])
    + terminal_value / 1000 * sum_i (E[i,T] - E[i,0])
s.t. 0 <= x[t,i,m] <= prequalified_kw[i,m]
     c[t,i] = sum_{m down} x[t,i,m] <= charge_limit[i];  d[t,i] = sum_{m up} x[t,i,m] <= discharge_limit[i]
     c[t,i] * d[t,i] = 0 (a binary per asset and step, added lazily by ``solve_exclusive``)
     E[i,t+1] = E[i,t] + eta_c[i] c[t,i] dt - d[t,i] dt / eta_d[i]
     SoH[i,t+1] = SoH[i,t] - fade_per_kwh[i] (c[t,i] + d[t,i]) dt
     soc_min[i] Cap[i] SoH[i,t+1] <= E[i,t+1] <= soc_max[i] Cap[i] SoH[i,t+1];  sum_t c[t,i] dt <= budget[i]
Every coefficient comes from the scenario and ``core`` (the value per kWh, the limits, the budgets).

The battery rows are :mod:`batterygym.baselines.battery_block`'s, every MILP's: SoH is written as the
remaining capacity ``K = SoH Cap`` in kWh, whose coefficient ``fade_per_cycle / 2`` is about 1e-5, where
``fade_per_kwh`` of a MWh-scale asset is about 1e-9, HiGHS's threshold for dropping a coefficient (with
SoH itself, a 168-step single-asset MILP took 10 s instead of well under one). Assets without capacity
fade have a constant ``K``: their window is the bounds of ``E``.
"""
from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from batterygym.baselines.battery_block import add_batteries, lin
from batterygym.baselines.plan import Plan, SolverError
from batterygym.baselines.solver import paused_gc, solve_exclusive
from batterygym.core.battery import shares_of_powers
from batterygym.core.fleet import FleetScenario, FleetState, simulate


@paused_gc()
def build_model(s: FleetScenario, exclusive: str = "lazy") -> pyo.ConcreteModel:
    """The Pyomo model of one episode, from the scenario's arrays with indexed components.

    The assets are :func:`~batterygym.baselines.battery_block.add_batteries`'s components ``m.battery_*``
    (index ``(asset, step)``; their handle is ``m.batteries``), their charge and discharge the sums of the
    allocations to down and up markets.
    """
    n, k, T, dt = s.n_assets, s.n_markets, s.n_steps, s.dt_h
    pq, up = s.prequalified_kw, s.is_up
    value = s.value_eur_per_kwh
    pairs = [(i, mk) for i in range(n) for mk in range(k) if pq[i, mk] > 0]
    ups = {i: [mk for mk in range(k) if up[mk] and pq[i, mk] > 0] for i in range(n)}
    dns = {i: [mk for mk in range(k) if not up[mk] and pq[i, mk] > 0] for i in range(n)}

    m = pyo.ConcreteModel(name="fleet")
    m.T = pyo.RangeSet(0, T - 1)
    m.I = pyo.RangeSet(0, n - 1)
    m.P = pyo.Set(initialize=pairs, dimen=2, ordered=True)
    m.x = pyo.Var(m.T, m.P, bounds=lambda _, t, i, mk: (0.0, float(pq[i, mk])))
    bat = add_batteries(m, "battery", s.assets, dt, charge_max_kw=s.charge_limit_kw,
                        discharge_max_kw=s.discharge_limit_kw, n_steps=T, budget_kwh=s.charge_budget_kwh.tolist(),
                        exclusive=exclusive)
    m.batteries = bat
    c, d, x = bat.c, bat.d, m.x

    def side(var: pyo.Var, markets: dict[int, list[int]]):
        def rule(_, t, i):
            if not markets[i]:
                return pyo.Constraint.Skip  # the side's limit is 0: its bounds fix it at 0
            return (0.0, lin(var[i, t], *((-1, x[t, i, mk]) for mk in markets[i])), 0.0)
        return rule

    # c[i,t] - sum_{m down} x[t,i,m] == 0;  d[i,t] - sum_{m up} x[t,i,m] == 0
    m.charge_def = pyo.Constraint(m.T, m.I, rule=side(c, dns))
    m.discharge_def = pyo.Constraint(m.T, m.I, rule=side(d, ups))

    # the cost: wear - revenue - terminal credit
    terms, constant = bat.cost_terms(s.terminal_value_eur_per_kwh)
    terms += [(-(dt * float(value[t, mk])), x[t, i, mk]) for t in range(T) for (i, mk) in pairs]
    m.cost = pyo.Objective(expr=LinearExpression([constant, *(MonomialTermExpression(t) for t in terms)]),
                           sense=pyo.minimize)
    return m


def allocation_of(m: pyo.ConcreteModel, s: FleetScenario) -> np.ndarray:
    """The solved allocation ``(T, N, M)`` in kW, cleaned of solver noise: no negative values, and where an
    asset has both sides positive (below the exclusivity tolerance) the smaller side is dropped."""
    x = np.zeros((s.n_steps, s.n_assets, s.n_markets))
    for (t, i, mk), var in m.x.items():
        x[t, i, mk] = var.value or 0.0
    x = np.clip(x, 0.0, s.prequalified_kw[None, :, :])
    up_total = x[:, :, s.is_up].sum(axis=2)
    dn_total = x[:, :, ~s.is_up].sum(axis=2)
    keep_up = up_total >= dn_total
    x[:, :, s.is_up] *= keep_up[:, :, None]
    x[:, :, ~s.is_up] *= ~keep_up[:, :, None]
    return x


def return_of(s: FleetScenario, actions: np.ndarray) -> float:
    """What the env pays for ``actions`` (its own state and step, :class:`FleetState`)."""
    state = FleetState(s)
    total = 0.0
    for row in np.asarray(actions, dtype=np.float64).tolist():
        out = state.step(row)
        total += out.revenue_eur - out.degradation_eur + out.terminal_eur
    return total


def actions_of(s: FleetScenario, x: np.ndarray) -> np.ndarray:
    """The env's actions ``(T, N * M)`` that request allocation ``x``: each share of its prequalification."""
    pq = s.prequalified_kw[None, :, :]
    shares = shares_of_powers(x, pq, pq)  # allocations are one-sided: the share of the prequalification
    return np.clip(shares, 0.0, 1.0).astype(np.float32).reshape(s.n_steps, -1)


def asset_scenario(s: FleetScenario, i: int) -> FleetScenario:
    """The episode of asset ``i`` alone: its own prequalification, the same markets and prices."""
    return FleetScenario(
        assets=(s.assets[i],), directions=s.directions, prices=s.prices, prequalified_kw=s.prequalified_kw[i:i + 1],
        market_names=s.market_names, asset_names=(s.asset_names[i],),
        terminal_value_eur_per_mwh=s.terminal_value_eur_per_mwh, start=s.start, dt_h=s.dt_h,
    )


def _solve_model(s: FleetScenario, time_limit: float, mip_gap: float, all_binaries: bool):
    """Build and solve the MILP of ``s``: (allocation, SolveInfo, build seconds)."""
    t0 = time.perf_counter()
    m = build_model(s, exclusive="binary" if all_binaries else "lazy")
    build_s = time.perf_counter() - t0
    info = solve_exclusive(m, [m.batteries], what="fleet MILP", time_limit=time_limit, mip_gap=mip_gap)
    return allocation_of(m, s), info, build_s


def solve(s: FleetScenario, *, time_limit: float = 60.0, mip_gap: float = 1e-7, all_binaries: bool = False,
          decompose: bool = True) -> Plan:
    """The optimal bids of a fleet episode, as a :class:`Plan` for ``Fleet-v0``.

    The assets share no constraint (each has its own rating, prequalification and budget; prices do
    not depend on the bids), so the fleet's MILP is the sum of one MILP per asset, and ``decompose``
    (default) solves them one by one: the same optimum, found far faster than by one branch-and-bound
    over the whole fleet (whose gap is global). ``time_limit`` is for the whole fleet; ``mip_gap``
    applies to each asset, so the fleet's gap is at most ``mip_gap`` too.
    """
    if not isinstance(s, FleetScenario):
        raise TypeError(f"expected a FleetScenario, got {type(s).__name__}")
    t0 = time.perf_counter()
    parts = [asset_scenario(s, i) for i in range(s.n_assets)] if decompose and s.n_assets > 1 else [s]
    x = np.zeros((s.n_steps, s.n_assets, s.n_markets))
    objective = bound = build_s = solve_s = solver_s = 0.0
    statuses, binaries, rounds = set(), 0, 0
    for i, part in enumerate(parts):
        remaining = time_limit - (time.perf_counter() - t0)
        if remaining <= 0:
            raise SolverError(f"fleet MILP: time limit of {time_limit} s reached after {i} of {len(parts)} assets")
        xi, info, b_s = _solve_model(part, remaining, mip_gap, all_binaries)
        if len(parts) == 1:
            x = xi
        else:
            x[:, i:i + 1, :] = xi
        objective += info.objective
        bound += info.bound
        build_s += b_s
        solve_s += info.seconds
        solver_s += info.solver_seconds
        statuses.add(info.status)
        binaries += info.n_binaries
        rounds = max(rounds, info.rounds)
    schedule = simulate(s, x)
    actions = actions_of(s, x)
    return Plan(
        objective=return_of(s, actions), actions=actions, schedule=schedule,
        status="optimal" if statuses == {"optimal"} else "time_limit", bound=-bound,
        solver_seconds=solver_s,
        build_seconds=build_s, solve_seconds=solve_s, mip_gap=abs(objective - bound) / max(1.0, abs(objective)),
        details={"binaries": binaries, "rounds": rounds, "models": len(parts), "milp_objective": -objective},
    )
