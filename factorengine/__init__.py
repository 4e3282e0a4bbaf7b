"""FactorEngine: mine alpha factors as Python programs."""

__version__ = "0.1.0"
