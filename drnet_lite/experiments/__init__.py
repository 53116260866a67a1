"""Experiments of the paper that belong with one data source (their presets, probes and tables)."""
