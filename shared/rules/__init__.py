"""The pure rule engine: scores and rule checks over one report, shared by evaluation and previews."""
