"""The intake's counters (imported lazily, after the WSGI entry point prepared multiprocess mode)."""

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "pilotwatch_http_requests",
    "HTTP requests by endpoint, method and status",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "pilotwatch_http_request_duration_seconds",
    "Time to answer an HTTP request, by endpoint",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SUBMISSIONS = Counter(
    "pilotwatch_submissions",
    "Report submissions through the API by outcome (accepted, invalid, forbidden, duplicate)",
    ["outcome"],
)
