"""Task names and queues: the only thing a service needs to know to send another one a message.

Each name is namespaced by the service that runs it (`evaluation.*`, `notify.*`, `intake.*` for the
intake's own worker) and routed to that service's own queue. Which event each task receives is bound in shared/events.py.
"""

EVALUATION_QUEUE = "evaluation"
NOTIFY_QUEUE = "notify"
# The intake's own worker: long jobs a page asks for (the office's Word documents, uploaded spreadsheets).
INTAKE_QUEUE = "intake"
QUEUES = (EVALUATION_QUEUE, NOTIFY_QUEUE, INTAKE_QUEUE)

# Tasks that receive an event (shared/events.py binds each to its schema).
EVALUATE_SUBMISSION = "evaluation.evaluate_submission"
REEVALUATE_CHUNK = "evaluation.reevaluate_chunk"
NOTIFY_FINDINGS_OPENED = "notify.findings_opened"
NOTIFY_FINDINGS_RESOLVED = "notify.findings_resolved"
NOTIFY_FINDINGS_CHANGED = "notify.findings_changed"
NOTIFY_REPORTS_DUE_SOON = "notify.reports_due_soon"
SEND_DELIVERY = "notify.send_delivery"
RESEND_DELIVERY = "notify.resend_delivery"
GENERATE_DOCUMENT = "intake.generate_document"
IMPORT_SHEET = "intake.import_sheet"

# Tasks the scheduler sends on their own, without an event.
CHECK_TIMELINESS = "evaluation.check_timeliness"
CHECK_OUTLIERS = "evaluation.check_outliers"
FLUSH_ALERTS = "notify.flush_alerts"
# The intake's worker computes again the figures a supervisor opens first, once their rounds changed.
KEEP_FIGURES = "intake.keep_figures"
# Each service relays the outbox events addressed to it (see shared/outbox.py).
RELAY_OUTBOX = {
    EVALUATION_QUEUE: "evaluation.relay_outbox",
    NOTIFY_QUEUE: "notify.relay_outbox",
    INTAKE_QUEUE: "intake.relay_outbox",
}

ROUTES = {f"{queue}.*": {"queue": queue} for queue in QUEUES}


def queue_of(task_name: str) -> str:
    """The queue a task is routed to: its service's namespace."""
    queue = task_name.split(".", 1)[0]
    if queue not in QUEUES:
        raise LookupError(f"task {task_name} is not in a known service's namespace")
    return queue
