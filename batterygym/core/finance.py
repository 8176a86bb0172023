"""The suite's finance: capex of a second-life battery or of a BSS microgrid, discounting, NPV/IRR/paybacks, LCOS
and one appraisal.

Years are whole accounting years: year 0 carries the capex, years 1..n the net savings. Fractional
project lives are allowed; the last year then carries the matching share of a year's net saving.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import numpy_financial as npf

from batterygym.core.validation import as_series, check_finite, check_fraction, check_nonnegative, check_positive

_WHOLE_YEAR_TOL = 1e-9


def _check_rate(name: str, rate: float) -> None:
    check_finite(name, rate)
    if rate <= -1.0:
        raise ValueError(f"{name} must be > -1, got {rate!r}")


@dataclass(frozen=True)
class Finance:
    """Cost and discounting assumptions of a storage project (EUR, real terms): a second-life battery, or a
    battery swapping station with its microgrid (:meth:`microgrid_capex`).

    Defaults and sources ([lit] = typical literature value, [assume] = our choice):

    - ``pack_price_eur_per_kwh`` 80 EUR/kWh of remaining capacity (soh0 * nominal) [lit]: inside the
      38-132 USD/kWh selling-price range for repurposed packs in Neubauer, Pesaran et al. (2012),
      NREL/TP-5400-53799 "Techno-Economic Analysis of PEV Battery Second Use"; the point is [assume].
    - ``power_price_eur_per_kw`` 150 EUR/kW inverter and power electronics [assume].
    - ``fixed_cost_eur`` 20,000 EUR installation, grid-connection works, engineering [assume].
    - ``om_share_per_year`` 2 % of capex per year for O&M [assume].
    - ``discount_rate`` 7 % real per year [assume]; must be in (-1, 1).
    - ``horizon_years`` 10 years [lit]: NREL Battery Second Use work expects ~10 more years of service.
    - ``salvage_share`` 0 (nothing recovered at the end) [assume]; in [0, 1].

    The microgrid's plants and station (:data:`MICROGRID_FIELDS`; USD converted at the ECB's 2021 average,
    0.845 EUR/USD):

    - ``pv_eur_per_kw`` 724 EUR/kW [lit]: 857 USD/kW, the global weighted-average total installed cost of
      utility-scale PV in 2021 (IRENA, "Renewable Power Generation Costs in 2021", 2022).
    - ``wind_eur_per_kw`` 1,120 EUR/kW [lit]: 1,325 USD/kW, onshore wind in 2021 (same report).
    - ``station_fixed_eur`` 150,000 EUR [assume]: the swapping robot, building and grid works of a 12-slot
      station; a NIO second-generation station (13 packs, its chargers included) cost about 3 M RMB,
      0.38 M EUR (42how.com, 2023-03-29), so what is left once chargers and packs are priced below.
    - ``charger_eur_per_kw`` 200 EUR/kW of the slots' 1C charging [assume]: station-side AC/DC converters,
      without the dispensers and customer interface of a public fast charger.
    - ``new_pack_eur_per_kwh`` 128 EUR/kWh [lit]: a new EV pack, 139 USD/kWh, the 2023 volume-weighted
      average in BloombergNEF's battery price survey (at 0.92 EUR/USD, 2023). It prices the station's packs
      and every pack bought to replace one retired at the end of its first life.
    - The second-life storage: ``pack_price_eur_per_kwh`` per kWh remaining, ``power_price_eur_per_kw`` and
      ``fixed_cost_eur``, as for the second-life battery above; ``om_share_per_year`` of the whole capex.
    """

    pack_price_eur_per_kwh: float = 80.0
    power_price_eur_per_kw: float = 150.0
    fixed_cost_eur: float = 20_000.0
    om_share_per_year: float = 0.02
    discount_rate: float = 0.07
    horizon_years: float = 10.0
    salvage_share: float = 0.0
    pv_eur_per_kw: float = 724.0
    wind_eur_per_kw: float = 1_120.0
    station_fixed_eur: float = 150_000.0
    charger_eur_per_kw: float = 200.0
    new_pack_eur_per_kwh: float = 128.0

    def __post_init__(self) -> None:
        for name in ("pack_price_eur_per_kwh", "power_price_eur_per_kw", "fixed_cost_eur", "om_share_per_year",
                     *MICROGRID_FIELDS):
            check_nonnegative(name, getattr(self, name))
        check_finite("discount_rate", self.discount_rate)
        if not -1.0 < self.discount_rate < 1.0:
            raise ValueError(f"discount_rate must be in (-1, 1), got {self.discount_rate!r}")
        check_positive("horizon_years", self.horizon_years)
        check_fraction("salvage_share", self.salvage_share)

    def capex(self, capacity_kwh: float, power_kw: float, soh0: float) -> float:
        """Up-front cost (EUR): packs priced on remaining capacity, plus power electronics, plus fixed cost.

        No battery (zero capacity and zero power) costs nothing, fixed cost included.
        """
        check_nonnegative("capacity_kwh", capacity_kwh)
        check_nonnegative("power_kw", power_kw)
        check_fraction("soh0", soh0)
        if capacity_kwh == 0 and power_kw == 0:
            return 0.0
        return float(
            self.pack_price_eur_per_kwh * soh0 * capacity_kwh
            + self.power_price_eur_per_kw * power_kw
            + self.fixed_cost_eur
        )


    def microgrid_capex(self, *, pv_kwp: float, wind_kw: float, charger_kw: float, station_pack_kwh: float,
                        storage_remaining_kwh: float, storage_kw: float) -> dict[str, float]:
        """Up-front cost (EUR) of a battery swapping station and its microgrid, by item: PV, wind, the station
        (fixed part, chargers, new packs) and the second-life storage (:meth:`capex` of its packs)."""
        for name, v in (("pv_kwp", pv_kwp), ("wind_kw", wind_kw), ("charger_kw", charger_kw),
                        ("station_pack_kwh", station_pack_kwh), ("storage_remaining_kwh", storage_remaining_kwh),
                        ("storage_kw", storage_kw)):
            check_nonnegative(name, v)
        return {"pv_eur": self.pv_eur_per_kw * pv_kwp, "wind_eur": self.wind_eur_per_kw * wind_kw,
                "station_eur": self.station_fixed_eur, "chargers_eur": self.charger_eur_per_kw * charger_kw,
                "station_packs_eur": self.new_pack_eur_per_kwh * station_pack_kwh,
                "storage_eur": self.capex(storage_remaining_kwh, storage_kw, 1.0)}


# the fields only the microgrid's capex reads
MICROGRID_FIELDS = ("pv_eur_per_kw", "wind_eur_per_kw", "station_fixed_eur", "charger_eur_per_kw",
                    "new_pack_eur_per_kwh")


def annuity_factor(rate: float, years: float) -> float:
    """Present value of 1 per year for ``years`` years, (1 - (1+r)^-n) / r, and n when r == 0.

    Uses the closed form, so fractional years are valid; computed with log1p/expm1 to stay exact near r == 0.
    """
    _check_rate("rate", rate)
    check_nonnegative("years", years)
    if rate == 0:
        return float(years)
    return float(-math.expm1(-years * math.log1p(rate)) / rate)


def capital_recovery_factor(rate: float, years: float) -> float:
    """Share of a present sum to pay each year for ``years`` years to repay it at ``rate``: 1 / annuity factor."""
    check_positive("years", years)
    return 1.0 / annuity_factor(rate, years)


def cash_flows(capex: float, annual_net: float, years: float, salvage: float = 0.0) -> np.ndarray:
    """Yearly flows: index 0 is -capex, years 1..ceil(years) get ``annual_net``, the last one scaled to its
    fractional part when ``years`` is not whole, and ``salvage`` added to the last year.

    E.g. years=2.5 gives [-capex, a, a, 0.5 a + salvage].
    """
    check_nonnegative("capex", capex)
    check_finite("annual_net", annual_net)
    check_positive("years", years)
    check_finite("salvage", salvage)
    whole = round(years)
    if whole >= 1 and abs(years - whole) <= _WHOLE_YEAR_TOL * max(1.0, years):
        n, last_share = int(whole), 1.0
    else:
        n = math.ceil(years)
        last_share = years - (n - 1)
    flows = np.full(n + 1, float(annual_net))
    flows[0] = -float(capex)
    flows[-1] = annual_net * last_share + salvage
    return flows


def npv(rate: float, flows: object) -> float:
    """Net present value of yearly ``flows`` (index i discounted by (1+rate)^i, year 0 undiscounted)."""
    _check_rate("rate", rate)
    arr = as_series("flows", flows)
    return float(npf.npv(rate, arr))


def irr(flows: object) -> float | None:
    """Internal rate of return of yearly ``flows``; None when the flows never change sign or no root is found."""
    arr = as_series("flows", flows)
    nonzero = arr[arr != 0]
    if nonzero.size == 0 or np.all(nonzero > 0) or np.all(nonzero < 0):
        return None
    value = float(npf.irr(arr))
    return value if math.isfinite(value) else None


def simple_payback(capex: float, annual_net: float) -> float | None:
    """Years of undiscounted net saving to repay ``capex``; None when the net saving is not positive."""
    check_nonnegative("capex", capex)
    check_finite("annual_net", annual_net)
    if annual_net <= 0:
        return None
    return float(capex / annual_net)


def discounted_payback(rate: float, flows: object) -> float | None:
    """First year at which the cumulative discounted cash flow reaches >= 0; None if it never does.

    Within the year where the cumulative flow crosses 0 the year is interpolated linearly, so the result
    is fractional (e.g. cumulative -40 at year 2 and +10 at year 3 gives 2.8).
    """
    _check_rate("rate", rate)
    arr = as_series("flows", flows)
    discounted = arr / (1.0 + rate) ** np.arange(arr.size)
    cumulative = np.cumsum(discounted)
    reached = np.flatnonzero(cumulative >= 0)
    if reached.size == 0:
        return None
    k = int(reached[0])
    if k == 0:
        return 0.0
    before = cumulative[k - 1]
    return float((k - 1) + (-before) / (cumulative[k] - before))


def lcos(
    capex: float, annual_om: float, annual_discharge_kwh: float, rate: float, years: float, salvage: float = 0.0
) -> float | None:
    """Levelised cost of storage, EUR per kWh discharged; None when nothing is discharged.

    (capex + annual_om * AF - salvage / (1+rate)^years) / (annual_discharge_kwh * AF), AF = annuity_factor(rate,
    years). The energy bought to charge the battery is excluded: it is already in the site's electricity bill.
    """
    check_nonnegative("capex", capex)
    check_nonnegative("annual_om", annual_om)
    check_nonnegative("annual_discharge_kwh", annual_discharge_kwh)
    check_positive("years", years)
    check_finite("salvage", salvage)
    if annual_discharge_kwh == 0:
        return None
    af = annuity_factor(rate, years)
    cost = capex + annual_om * af - salvage / (1.0 + rate) ** years
    return float(cost / (annual_discharge_kwh * af))


@dataclass(frozen=True)
class Appraisal:
    """The investment case of one battery: costs, savings and every metric, None where undefined."""

    capex_eur: float
    annual_saving_eur: float
    annual_om_eur: float
    life_years: float
    npv_eur: float
    irr: float | None
    simple_payback_years: float | None
    discounted_payback_years: float | None
    lcos_eur_per_kwh: float | None

    def to_dict(self) -> dict[str, float | None]:
        """JSON-clean dict: python floats, None kept as None."""
        return {k: None if v is None else float(v) for k, v in asdict(self).items()}


def replacement_years(life_years: float, horizon_years: float) -> list[int]:
    """The years (1, 2, ...) in which a pack that lasts ``life_years`` is replaced within the horizon: the
    year that contains each end of life ``k * life_years < horizon_years``."""
    check_positive("life_years", life_years)
    if not math.isfinite(life_years):
        return []
    out, k = [], 1
    while k * life_years < horizon_years - 1e-9:
        out.append(max(1, math.ceil(k * life_years - 1e-9)))
        k += 1
    return out


def appraise(
    finance: Finance, capex: float, annual_saving: float, life_years: float, annual_discharge_kwh: float,
    replacement_eur: float | None = None,
) -> Appraisal:
    """Appraise a battery: net = saving - O&M share of capex each year, salvage at the end.

    Without ``replacement_eur`` the project lasts min(horizon, life) years. With it, the project lasts the
    horizon and a new pack costing ``replacement_eur`` is bought in the year of each end of life within it
    (:func:`replacement_years`). ``life_years`` in the result is the project length used. With
    ``capex == 0`` there is no battery and so no project: npv 0, irr, paybacks and LCOS None.
    """
    check_nonnegative("capex", capex)
    check_finite("annual_saving", annual_saving)
    check_positive("life_years", life_years)
    check_nonnegative("annual_discharge_kwh", annual_discharge_kwh)
    if replacement_eur is None:
        years = float(min(finance.horizon_years, life_years))
        replaced: list[int] = []
    else:
        check_nonnegative("replacement_eur", replacement_eur)
        years = float(finance.horizon_years)
        replaced = replacement_years(life_years, years)
    annual_om = finance.om_share_per_year * capex
    if capex == 0:
        return Appraisal(
            capex_eur=0.0, annual_saving_eur=float(annual_saving), annual_om_eur=0.0, life_years=years,
            npv_eur=0.0, irr=None, simple_payback_years=None, discounted_payback_years=None, lcos_eur_per_kwh=None,
        )
    rate = finance.discount_rate
    annual_net = annual_saving - annual_om
    salvage = finance.salvage_share * capex
    flows = cash_flows(capex, annual_net, years, salvage)
    for y in replaced:
        flows[min(y, len(flows) - 1)] -= replacement_eur
    pv_replacements = sum(replacement_eur / (1.0 + rate) ** y for y in replaced) if replaced else 0.0
    return Appraisal(
        capex_eur=float(capex),
        annual_saving_eur=float(annual_saving),
        annual_om_eur=float(annual_om),
        life_years=years,
        npv_eur=npv(rate, flows),
        irr=irr(flows),
        simple_payback_years=simple_payback(capex, annual_net),
        discounted_payback_years=discounted_payback(rate, flows),
        lcos_eur_per_kwh=lcos(capex + pv_replacements, annual_om, annual_discharge_kwh, rate, years, salvage),
    )
