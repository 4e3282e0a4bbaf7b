"""Harvest a finished run: choose and export its elite factors, combine them with LightGBM and backtest the
combination on test, judge their stability, chance level and generalization, and render the run's HTML report.

The search never imports this package: test figures are computed here, for people.
"""
