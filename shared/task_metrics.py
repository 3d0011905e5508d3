"""Task counters and durations of the workers (imported only after `shared.metrics.prepare`)."""

from prometheus_client import Counter, Histogram

TASKS = Counter("pilotwatch_tasks", "Tasks run, by task name and final state", ["task", "state"])
DURATION = Histogram(
    "pilotwatch_task_duration_seconds",
    "Time a task took, by task name",
    ["task"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
FAILURES = Counter(
    "pilotwatch_task_failures", "Tasks that raised, by task name and exception", ["task", "exception"]
)
RETRIES = Counter("pilotwatch_task_retries", "Tasks sent back for a retry, by task name", ["task"])
