"""The database models, split by kind; import them from here."""

from shared.models.accounts import ROLES, ApiToken, User
from shared.models.alerting import ALERT_KINDS, AlertGroup, AlertItem, FindingAlertState, MuteWindow
from shared.models.audit import AuditEvent
from shared.models.base import Base, utcnow
from shared.models.jobs import ReevaluationJob, ReminderSent
from shared.models.messaging import Alert, Channel, Delivery, DeliveryAttempt, OutboxEvent
from shared.models.office import (
    CASE_STATUSES,
    DOCUMENT_KINDS,
    JOB_STATES,
    VISIT_METHODS,
    Case,
    DocumentJob,
    Visit,
    visit_units,
)
from shared.models.registry import District, PilotBatch, PilotUnit
from shared.models.reports import (
    ACTIVE_STATUSES,
    FINDING_STATUSES,
    Evaluation,
    Finding,
    Submission,
    evaluation_findings,
)
from shared.models.rounds import CatalogueVersion, Round
from shared.models.workspace import Draft, SheetImport, StoredFile

__all__ = [
    "ReevaluationJob",
    "ReminderSent",
    "ALERT_KINDS",
    "AlertGroup",
    "AlertItem",
    "FindingAlertState",
    "MuteWindow",
    "ACTIVE_STATUSES",
    "CASE_STATUSES",
    "DOCUMENT_KINDS",
    "JOB_STATES",
    "VISIT_METHODS",
    "Case",
    "DocumentJob",
    "PilotBatch",
    "Visit",
    "visit_units",
    "FINDING_STATUSES",
    "ROLES",
    "Alert",
    "AuditEvent",
    "ApiToken",
    "Base",
    "CatalogueVersion",
    "Channel",
    "Delivery",
    "DeliveryAttempt",
    "District",
    "Draft",
    "SheetImport",
    "Evaluation",
    "Finding",
    "OutboxEvent",
    "PilotUnit",
    "Round",
    "StoredFile",
    "Submission",
    "User",
    "evaluation_findings",
    "utcnow",
]
