"""Experiments, single runs, sweeps and the reproduction of the paper."""
