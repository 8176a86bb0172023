"""What both microgrid MILPs (the slot model and the pack-cycle model) write alike: the storage, the deficit
and the site's money, from the scenario's arrays in ``core``."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from batterygym.baselines.battery_block import add_batteries
from batterygym.core.microgrid import DT_H, MicrogridScenario


def add_site(m: pyo.ConcreteModel, s: MicrogridScenario, station_kw: Callable[[int], Any]) -> tuple[Any, Any, float]:
    """What both station models share: the storage (the battery block of every MILP, ``m.batteries``), the
    deficit ``g_t >= L_t - R_t + station_kw(t) + sum_k (c_tk - d_tk)`` within its limit, and the site's money.
    Returns the deficit's cost, the storage's wear and terminal credit (its initial energy is left to the
    caller's constant), and the constant: the residents' tariff on the whole load and every swap lost."""
    T, K = s.n_steps, s.n_storage
    bat = add_batteries(m, "storage", s.storage, DT_H, charge_max_kw=[b.p_charge_kw for b in s.storage],
                        discharge_max_kw=[b.p_discharge_kw for b in s.storage], n_steps=T) if K else None
    m.batteries = bat
    load, res, limit, cover = s.load_kw, s.res_kw, s.deficit_limit_kw, s.cover_price_eur_per_kwh
    m.g = pyo.Var(m.T, bounds=lambda _, t: (0.0, float(limit[t])))
    storage_net = (lambda t: pyo.quicksum(bat.c[k, t] - bat.d[k, t] for k in range(K))) if K else (lambda t: 0.0)
    m.balance = pyo.Constraint(m.T, rule=lambda m, t: m.g[t] >= float(load[t] - res[t]) + station_kw(t)
                               + storage_net(t))
    grid = pyo.quicksum(float(cover[t]) * m.g[t] for t in m.T)
    storage = LinearExpression([MonomialTermExpression(x) for x in bat.cost_terms(s.terminal_value_eur_per_kwh)[0]]
                               ) if K else 0.0
    const = float(np.dot(s.tariff_eur_per_kwh, load)) - s.lost_swap_penalty_eur * s.n_requests
    return grid, storage, const
