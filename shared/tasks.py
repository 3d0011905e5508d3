"""Task names and queues: the only thing a service needs to know to send another one an event."""

EVALUATION_QUEUE = "evaluation"
NOTIFY_QUEUE = "notify"

EVALUATE_SUBMISSION = "evaluation.evaluate_submission"
RELAY_OUTBOX = "evaluation.relay_outbox"
CHECK_TIMELINESS = "evaluation.check_timeliness"
CHECK_OUTLIERS = "evaluation.check_outliers"
REEVALUATE_CHUNK = "evaluation.reevaluate_chunk"
NOTIFY_FINDINGS_OPENED = "notify.findings_opened"
NOTIFY_FINDINGS_RESOLVED = "notify.findings_resolved"
NOTIFY_REPORTS_DUE_SOON = "notify.reports_due_soon"
SEND_DELIVERY = "notify.send_delivery"
FLUSH_ALERTS = "notify.flush_alerts"
RESEND_DELIVERY = "notify.resend_delivery"

ROUTES = {
    "evaluation.*": {"queue": EVALUATION_QUEUE},
    "notify.*": {"queue": NOTIFY_QUEUE},
}
