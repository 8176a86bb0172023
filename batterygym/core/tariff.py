"""Time-of-use tariffs: a price per band, bands by hour of day and weekday."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
        return self.demand_charge_eur_per_kw_month * days / (365.25 / 12)
