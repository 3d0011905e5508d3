"""Code the Pilotwatch services share: configuration, models, events, the catalogue."""
