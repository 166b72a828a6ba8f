"""Recipes: catalog, parameters, estimates, exporters and dataset checks (pure)."""
