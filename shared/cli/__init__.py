"""The `pilotwatch` admin command line."""
