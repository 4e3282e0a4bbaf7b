"""Harvest a finished run: choose and export its elite factors, combine them (and the seeds) with
LightGBM and by average rank, judge the combinations against the seeds' on test and backtest the elites' LightGBM,
judge their stability, chance level and generalization, and render the run's HTML report.

The search never imports this package: test figures are computed here, for people.
"""

HARVEST_DIR = "harvest"  # where `factorengine harvest` writes in a run directory unless told otherwise
RESULTS = "results.json"  # the harvest's results in that directory (`factorengine.harvest.results`)
MANIFEST = "manifest.json"  # the elites it exported and how they were chosen (`factorengine.harvest.elites`)
