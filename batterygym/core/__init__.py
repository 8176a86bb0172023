"""The one model every env and MILP shares: battery physics, tariffs, scenarios, money."""
from batterygym.core.battery import BatteryParams, power_bounds, step_battery
from batterygym.core.finance import Finance
from batterygym.core.fleet import FleetScenario, FleetState
from batterygym.core.fleet_generator import FleetConfig, generate_fleet
from batterygym.core.fleet_io import load_fleet_csv
from batterygym.core.industrial import IndustrialScenario, cost_breakdown, settle_step, simulate, terminal_credit
from batterygym.core.industrial_generator import IndustrialSiteConfig, generate_industrial
from batterygym.core.industrial_io import load_industrial_csv
from batterygym.core.microgrid import MicrogridScenario, MicrogridState
from batterygym.core.microgrid_generator import MicrogridConfig, generate_microgrid
from batterygym.core.tariff import TOUTariff
from batterygym.core.v2g import V2GScenario, V2GState, ev_battery
from batterygym.core.v2g_generator import V2GConfig, generate_quarter, generate_v2g

__all__ = [
    "Finance",
    "BatteryParams", "FleetConfig", "MicrogridConfig", "MicrogridScenario", "MicrogridState", "generate_microgrid",
    "FleetScenario", "FleetState", "IndustrialScenario", "IndustrialSiteConfig",
    "TOUTariff", "cost_breakdown", "generate_fleet", "generate_industrial", "load_fleet_csv", "load_industrial_csv",
    "V2GConfig", "V2GScenario", "V2GState", "ev_battery", "generate_quarter", "generate_v2g",
    "power_bounds", "settle_step", "simulate", "step_battery", "terminal_credit",
]
