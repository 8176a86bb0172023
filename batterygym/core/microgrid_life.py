"""The microgrid's battery life cycle from day to day: station packs fade, retire at the end of their first
life and replace spent storage packs (the circular transfer of Marchesano et al. 2023).

Within a day the env and the MILP run one :class:`~batterygym.core.microgrid.MicrogridScenario`; this
module carries the packs' state to the next day's scenario and applies the life-cycle rules between days:

- *Station packs* fade linearly with the energy they store [src: "linear ageing in lost cycles"]: slot
  ``j`` of category ``c`` loses ``(1 - first_life_end) / (station_cycle_life * Q_c)`` of SoH per kWh
  stored (``eta * p``), so ``station_cycle_life`` full charges take a pack from SoH 1 to 0.8. The fade
  follows the slot: each slot's charging ages the pack that keeps its place in the station's pool
  (swapped packs circulate among the customers; the pool's total ageing is the same). Within a day the
  station's packs keep their nominal capacity (the scenario's slot model).
- *Storage packs* are second-life :class:`~batterygym.core.battery.BatteryParams`: they fade with
  throughput inside the day, in the env and in the MILP alike (the shared battery equations), by
  ``(first_life_end - second_life_end) / storage_cycle_life`` per equivalent full cycle.
- *Between days* (episodes), a pack leaves before any episode in which it could cross its threshold: a
  station pack whose SoH could fall below ``first_life_end`` in an episode of full-rate charging retires,
  and a new pack (full, SoH 1) takes its slot; the retired pack waits on the shelf. A storage pack that could fall below
  ``second_life_end`` is spent (*depleted*) and leaves its place; a pack from the shelf takes the place
  (*transferred*, at the storage's lowest SoC). So no pack's SoH is ever below its threshold, and the
  counts add up: ``storage in service = initial + transferred - depleted`` and
  ``shelf = retired - transferred``.

The storage's discharge order (uniform or uneven wear) is the rule policy's
(:class:`~batterygym.baselines.microgrid_heuristics.MicrogridRule`); the optimum chooses its own.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from batterygym.core.battery import BatteryParams
from batterygym.core.microgrid import DT_H, MicrogridScenario
from batterygym.core.validation import check_fraction, check_positive


@dataclass(frozen=True)
class LifeParams:
    """The life-cycle assumptions ([src] the source, [lit] literature, [assume] our choice).

    - ``first_life_end`` 0.8, ``second_life_end`` 0.6 [src]: first life 100 -> 80 % SoH, second 80 -> 60 %.
    - ``station_cycle_life`` 2,000 full charges from SoH 1 to 0.8 [lit]: EV packs are typically warranted
      and tested for 1,500-3,000 cycles to 80 %; the point is [assume].
    - ``storage_cycle_life`` 3,000 equivalent full cycles from 0.8 to 0.6 [assume]: the generator's
      ``storage_cycle_life``, so a pack's remaining life is its SoH's distance to 0.6.
    - ``station_soh_min`` / ``station_soh_max`` 0.8-1.0 [assume]: the station's packs at the start of the
      run, drawn uniformly, as in a pool whose packs were bought over time.
    """

    first_life_end: float = 0.8
    second_life_end: float = 0.6
    station_cycle_life: float = 2_000.0
    storage_cycle_life: float = 3_000.0
    station_soh_min: float = 0.8
    station_soh_max: float = 1.0

    def __post_init__(self) -> None:
        for name in ("first_life_end", "second_life_end", "station_soh_min", "station_soh_max"):
            check_fraction(name, getattr(self, name))
        for name in ("station_cycle_life", "storage_cycle_life"):
            check_positive(name, getattr(self, name))
        if not 0.0 < self.second_life_end < self.first_life_end < 1.0:
            raise ValueError(f"need 0 < second_life_end < first_life_end < 1, got {self.second_life_end!r}, "
                             f"{self.first_life_end!r}")
        if not self.first_life_end <= self.station_soh_min <= self.station_soh_max:
            raise ValueError(f"need first_life_end <= station_soh_min <= station_soh_max, got "
                             f"{self.first_life_end!r}, {self.station_soh_min!r}, {self.station_soh_max!r}")

    @property
    def storage_fade_per_cycle(self) -> float:
        return (self.first_life_end - self.second_life_end) / self.storage_cycle_life

    def station_fade_per_kwh(self, pack_kwh: float) -> float:
        """SoH a station pack of ``pack_kwh`` loses per kWh it stores."""
        return (1.0 - self.first_life_end) / (self.station_cycle_life * pack_kwh)


@dataclass(frozen=True)
class LifeCounts:
    """Packs that changed place since the start of the run."""

    retired: int = 0  # station packs at the end of their first life (each replaced by a new pack)
    transferred: int = 0  # retired packs moved into the storage
    depleted: int = 0  # storage packs at the end of their second life
    empty_place_days: int = 0  # storage places left empty at the start of a day (no pack on the shelf)
    bought_kwh: float = 0.0  # nominal capacity of the new packs bought for the retired ones


@dataclass(frozen=True)
class PackLife:
    """The packs' state between two days: what the next day's scenario starts from."""

    slot_soh: tuple[float, ...]
    slot_energy_kwh: tuple[float, ...]
    storage: tuple[BatteryParams, ...]
    shelf: tuple[tuple[int, float], ...]  # retired station packs waiting: (category, SoH), oldest first
    places: int  # the storage's places (packs in service plus empty places)
    template: BatteryParams | None  # the storage's C-rate, SoC window and efficiencies, for transferred packs
    counts: LifeCounts = LifeCounts()
    params: LifeParams = LifeParams()
    storage_price_eur_per_kwh: float = 80.0  # prices a transferred pack's wear (its remaining throughput)


def storage_pack(capacity_kwh: float, soh: float, soc: float, like: BatteryParams, p: LifeParams,
                 price_eur_per_kwh: float) -> BatteryParams:
    """A second-life pack at ``soh``: the storage's C-rate, SoC window and efficiencies (``like``), the
    constant fade of :class:`LifeParams`, and its price spread over its remaining throughput (its wear cost)."""
    c_rate = like.p_charge_kw / like.capacity_kwh
    return BatteryParams.second_life(
        capacity_kwh=capacity_kwh, power_kw=c_rate * capacity_kwh, price_eur_per_kwh=price_eur_per_kwh,
        cycle_life=p.storage_cycle_life * (soh - p.second_life_end) / (p.first_life_end - p.second_life_end),
        soh0=soh, soh_end_of_life=p.second_life_end, soc_min=like.soc_min, soc_max=like.soc_max,
        soc0=min(max(soc, like.soc_min), like.soc_max), eta_charge=like.eta_charge, eta_discharge=like.eta_discharge,
        max_cycles_per_day=None)


def start_life(s: MicrogridScenario, rng: np.random.Generator, p: LifeParams | None = None,
               storage_price_eur_per_kwh: float = 80.0) -> PackLife:
    """The run's first state: the scenario's slot energies and storage packs (rebuilt with the constant
    fade at their SoH), station SoH drawn uniformly in ``[station_soh_min, station_soh_max]``."""
    p = p or LifeParams()
    soh = rng.uniform(p.station_soh_min, p.station_soh_max, s.n_slots)
    storage = tuple(storage_pack(b.capacity_kwh, b.soh0, b.soc0, b, p, storage_price_eur_per_kwh)
                    for b in s.storage if b.soh0 > p.second_life_end)
    life = PackLife(tuple(soh.tolist()), tuple(s.slot_e0_kwh.tolist()), storage, (), s.n_storage,
                    s.storage[0] if s.storage else None, LifeCounts(depleted=s.n_storage - len(storage)), p,
                    storage_price_eur_per_kwh)
    return _replace_worn(life, s)


def day_scenario(s: MicrogridScenario, life: PackLife) -> MicrogridScenario:
    """The day's drawn scenario started from the carried packs: slot energies and the storage in service."""
    if not isinstance(life, PackLife):
        raise ValueError(f"packs must be a PackLife (batterygym.core.microgrid_life), got {type(life).__name__}")
    if len(life.slot_soh) != s.n_slots:
        raise ValueError(f"packs holds {len(life.slot_soh)} station slots, the scenario {s.n_slots}")
    return dataclasses.replace(s, slot_e0_kwh=np.array(life.slot_energy_kwh), storage=life.storage)


def station_soh(s: MicrogridScenario, slot_soh0: np.ndarray, charge_kw: np.ndarray, p: LifeParams) -> np.ndarray:
    """``(T, S)``: each slot's SoH after every hour of a day that charged ``charge_kw`` ``(T, S)``."""
    fade = np.array([p.station_fade_per_kwh(q) for q in s.slot_pack_kwh])
    return np.asarray(slot_soh0)[None, :] - np.cumsum(charge_kw * (s.pack_eta * DT_H), axis=0) * fade[None, :]


def end_of_day(s: MicrogridScenario, life: PackLife, schedule: pd.DataFrame) -> PackLife:
    """The state after the episode ``s`` ran as ``schedule`` (a :func:`~batterygym.core.microgrid.simulate`
    record), with the packs that could cross their threshold in the next one replaced."""
    charge = schedule[[f"charge_kw:{n}" for n in s.slot_names]].to_numpy()
    energy = schedule[[f"energy_kwh:{n}" for n in s.slot_names]].to_numpy()[-1]
    return advance(s, life, charge.sum(axis=0) * DT_H, energy,
                   [float(schedule[f"storage_kwh:s{k}"].iloc[-1]) for k in range(s.n_storage)],
                   [float(schedule[f"soh:s{k}"].iloc[-1]) for k in range(s.n_storage)])


def advance(s: MicrogridScenario, life: PackLife, charged_kwh: Sequence[float], slot_energy_kwh: Sequence[float],
            storage_kwh: Sequence[float], storage_soh: Sequence[float]) -> PackLife:
    """The state after the episode ``s``, from its totals: each slot's energy drawn (kWh, before the
    efficiency), and the slots' and storage packs' energy and the storage's SoH at its end."""
    p = life.params
    fade = [p.station_fade_per_kwh(q) * s.pack_eta for q in s.slot_pack_kwh]
    soh = [h - f * c for h, f, c in zip(life.slot_soh, fade, charged_kwh, strict=True)]
    storage = []
    for b, e, h in zip(s.storage, storage_kwh, storage_soh, strict=True):
        soc = min(max(e / (h * b.capacity_kwh), b.soc_min), b.soc_max)  # within rounding of its window
        storage.append(b.with_state(soc, h))
    life = dataclasses.replace(life, slot_soh=tuple(soh), slot_energy_kwh=tuple(float(e) for e in slot_energy_kwh),
                               storage=tuple(storage))
    return _replace_worn(life, s)


def max_fade(b: BatteryParams, hours: float) -> float:
    """The most SoH a storage pack can lose in ``hours``: its larger rating all along, in cycles."""
    return b.fade_per_cycle * hours * max(b.p_charge_kw, b.p_discharge_kw) / (2.0 * b.capacity_kwh)


def _replace_worn(life: PackLife, s: MicrogridScenario) -> PackLife:
    """Retire the station packs and spend the storage packs that could cross their threshold in an episode as
    long as ``s``; move retired packs from the shelf into empty storage places."""
    p, price, hours = life.params, life.storage_price_eur_per_kwh, s.n_steps * DT_H
    c = life.counts
    soh, energy = list(life.slot_soh), list(life.slot_energy_kwh)
    shelf = list(life.shelf)
    retired, bought = 0, 0.0
    for j, q in enumerate(s.slot_pack_kwh):
        worst = p.station_fade_per_kwh(q) * s.pack_eta * hours * s.slot_max_kw[j]
        if soh[j] - worst < p.first_life_end:
            shelf.append((s.slot_category[j], soh[j]))
            soh[j], energy[j] = 1.0, q  # a new pack, delivered full
            retired += 1
            bought += q
    keep = [b for b in life.storage if b.soh0 - max_fade(b, hours) >= p.second_life_end]
    depleted = len(life.storage) - len(keep)
    transferred = 0
    while shelf and len(keep) < life.places and life.template is not None:
        cat, h = shelf.pop(0)  # at SoH 0.8 or a day's fade below: a whole second life ahead
        keep.append(storage_pack(s.pack_kwh[cat], h, 0.0, life.template, p, price))
        transferred += 1
    counts = LifeCounts(c.retired + retired, c.transferred + transferred, c.depleted + depleted,
                        c.empty_place_days + (life.places - len(keep)), c.bought_kwh + bought)
    return dataclasses.replace(life, slot_soh=tuple(soh), slot_energy_kwh=tuple(energy), storage=tuple(keep),
                               shelf=tuple(shelf), counts=counts)


def check_life(life: PackLife, initial_storage: int) -> None:
    """The invariants every state keeps (raises AssertionError): SoH at or above each pack's threshold,
    places respected, and the counts adding up."""
    c, p = life.counts, life.params
    assert all(h >= p.first_life_end for h in life.slot_soh), life.slot_soh
    assert all(b.soh0 >= p.second_life_end for b in life.storage), [b.soh0 for b in life.storage]
    assert len(life.storage) <= life.places
    assert len(life.storage) == initial_storage + c.transferred - c.depleted
    assert len(life.shelf) == c.retired - c.transferred
