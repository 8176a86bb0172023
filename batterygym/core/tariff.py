"""Time-of-use tariffs (a price per band, bands by hour of day and weekday) and demand-charge billing periods."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from batterygym.core.validation import check_finite


@dataclass(frozen=True)
class TOUTariff:
    """Three-band energy tariff (EUR/kWh) plus a demand charge (EUR/kW of monthly peak import).

    Weekdays: peak in ``[peak_start, peak_end)``, shoulder in ``[shoulder_start, peak_start)`` and
    ``[peak_end, shoulder_end)``, off-peak otherwise; weekends are off-peak throughout.
    """

    offpeak: float = 0.10
    shoulder: float = 0.17
    peak: float = 0.28
    shoulder_start: int = 6
    peak_start: int = 8
    peak_end: int = 18
    shoulder_end: int = 22
    demand_charge_eur_per_kw_month: float = 10.0

    def __post_init__(self) -> None:
        for name in ("offpeak", "shoulder", "peak", "demand_charge_eur_per_kw_month"):
            check_finite(name, getattr(self, name))
        if not 0 <= self.shoulder_start <= self.peak_start <= self.peak_end <= self.shoulder_end <= 24:
            raise ValueError(
                "TOU hours must satisfy 0 <= shoulder_start <= peak_start <= peak_end <= shoulder_end <= 24, "
                f"got {self.shoulder_start}, {self.peak_start}, {self.peak_end}, {self.shoulder_end}"
            )

    def prices(self, hour_of_day: np.ndarray, day_of_week: np.ndarray) -> np.ndarray:
        """Energy price per step for the given hours (0-24) and weekdays (0 = Monday)."""
        h = np.asarray(hour_of_day)
        weekday = np.asarray(day_of_week) < 5
        peak = weekday & (h >= self.peak_start) & (h < self.peak_end)
        shoulder = weekday & ~peak & (h >= self.shoulder_start) & (h < self.shoulder_end)
        return np.where(peak, self.peak, np.where(shoulder, self.shoulder, self.offpeak))

    def demand_charge_for(self, days: float) -> float:
        """The monthly demand charge pro-rated to an episode of ``days`` (one peak per episode)."""
        return self.demand_charge_eur_per_kw_month * days / DAYS_PER_MONTH

    def billing(self, start: str, n_steps: int, dt_h: float, billing: str = "auto") -> dict[str, object]:
        """The demand-charge fields of an :class:`IndustrialScenario` under ``billing``.

        ``"episode"``: one peak for the whole episode at the monthly rate pro-rated to its days;
        ``"month"``: one peak per calendar month at the monthly rate, a month the episode covers in
        part pro-rated by the share covered (:func:`monthly_periods`); ``"auto"``: ``"month"`` for
        episodes longer than a month, else ``"episode"``.
        """
        days = n_steps * dt_h / 24.0
        if resolve_billing(billing, days) == "episode":
            return {"demand_charge_eur_per_kw": self.demand_charge_for(days)}
        period, share = monthly_periods(start, n_steps, dt_h)
        return {"demand_charge_eur_per_kw": self.demand_charge_eur_per_kw_month,
                "billing_period": period, "billing_share": share}


BILLING_MODES = ("auto", "episode", "month")
DAYS_PER_MONTH = 365.25 / 12


def resolve_billing(billing: str, days: float) -> str:
    """``"auto"`` is ``"month"`` for episodes longer than a month (365.25 / 12 days), else ``"episode"``."""
    if billing not in BILLING_MODES:
        raise ValueError(f"billing must be one of {BILLING_MODES}, got {billing!r}")
    if billing == "auto":
        return "month" if days > DAYS_PER_MONTH + 1e-9 else "episode"
    return billing


def monthly_periods(start: str, n_steps: int, dt_h: float) -> tuple[np.ndarray, np.ndarray]:
    """Calendar-month billing periods of an episode: per step its period (0, 1, ...), and per period
    the share of its month the episode covers (1 for a whole month, e.g. 10 / 31 for ten days of May),
    by which a partly covered month's demand charge is pro-rated."""
    stamps = pd.date_range(start, periods=n_steps, freq=pd.Timedelta(hours=dt_h))
    key = (stamps.year * 12 + stamps.month - 1).to_numpy()
    period = np.concatenate([[0], np.cumsum(key[1:] != key[:-1])]).astype(np.int64)
    hours = np.bincount(period, minlength=int(period[-1]) + 1) * dt_h
    first = np.flatnonzero(np.concatenate([[True], period[1:] != period[:-1]]))
    month_days = stamps[first].days_in_month.to_numpy(dtype=np.float64)
    return period, np.minimum(hours / 24.0 / month_days, 1.0)
