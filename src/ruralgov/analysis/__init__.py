"""Reporting and analysis of results: verdicts, sensitivity analysis and figures."""
