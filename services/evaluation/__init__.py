"""The evaluation service: scores reports, runs the rules, records findings."""
