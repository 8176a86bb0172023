"""Reports on episodes, the speed benchmark, the regret benchmark and their plots."""
