"""Operator tooling, kept out of the services and of the shared kernel: the `pilotwatch` command that
assembles every service's commands, the local stack behind `make run`, the embedded Redis and mail
sink, demo data, `doctor`, and backup and restore."""
