"""The measure catalogue: aspects, measures, indicators and rules, as versioned data files.

`schema.parse_catalogue` validates a whole file and refuses it with messages naming the entry and
the problem; nothing is half-loaded. `Catalogue` gives the services typed access to it and
`store` keeps the versions in the database.
"""

from shared.catalogue.model import MISSING_REPORT, REPORT_KINDS, ROUND_KINDS, RULE_KINDS, Catalogue, Rule
from shared.catalogue.schema import (
    DEFAULT_VERSION,
    INDICATOR_TYPES,
    SEVERITIES,
    STATUS_NAMES,
    STATUSES,
    CatalogueError,
    checksum,
    default_file,
    expression_names,
    parse_catalogue,
    read_file,
)

__all__ = [
    "DEFAULT_VERSION",
    "INDICATOR_TYPES",
    "MISSING_REPORT",
    "REPORT_KINDS",
    "ROUND_KINDS",
    "RULE_KINDS",
    "SEVERITIES",
    "STATUSES",
    "STATUS_NAMES",
    "Catalogue",
    "CatalogueError",
    "Rule",
    "checksum",
    "default_file",
    "expression_names",
    "parse_catalogue",
    "read_file",
]
