"""The command line and the browser dashboard."""
