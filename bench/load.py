"""Load generators: wrk (Debian: `apt-get install -y wrk`) when it is installed, otherwise an asyncio
client of our own. Every run is bounded in time, and the asyncio one in count as well."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

WRK_HINT = (
    "wrk not found: using the asyncio client (install wrk with `apt-get install -y wrk` for higher ceilings)"
)


@dataclass(frozen=True)
class Load:
    tool: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    sent_at: float
    answered_at: float

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def _lua(bodies: list[bytes], headers: dict[str, str]) -> str:
    items = ",\n".join(f"[==[{b.decode()}]==]" for b in bodies)
    head = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    return f"""wrk.method = "POST"
{head}
bodies = {{{items}}}
i = math.random(#bodies)
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %.1f %.1f\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def wrk(url: str, bodies: list[bytes], headers: dict[str, str], seconds: float, connections: int) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(bodies, headers))
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(connections),
                "-d",
                f"{max(1, round(seconds))}s",
                "--timeout",
                "5s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
    finally:
        Path(script.name).unlink()
    found = re.search(r"^BENCH (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)$", out, re.M)
    if found is None:
        raise RuntimeError(f"wrk gave no summary:\n{out}")
    count, micros, errors, p50, p99 = found.groups()
    duration = int(micros) / 1e6
    return Load(
        "wrk", int(count), int(errors), duration, int(count) / duration, float(p50) / 1000, float(p99) / 1000
    )


async def request(url: str, body: bytes, headers: dict[str, str], timeout: float = 10) -> Answer:
    """One POST on a fresh connection (gunicorn's sync workers close it after each answer)."""
    parts = urlsplit(url)
    sent = time.time()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, parts.port), timeout)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {len(body)}\r\n"
        f"Connection: close\r\n{head}\r\n".encode()
        + body
    )
    try:
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    answered = time.time()
    head_bytes, _, payload = raw.partition(b"\r\n\r\n")
    return Answer(int(head_bytes.split(b" ", 2)[1]), payload, sent, answered)


async def _closed_loop(
    url: str, bodies: list[bytes], headers: dict[str, str], seconds: float, connections: int, limit: int
) -> tuple[list[Answer], int, float]:
    answers: list[Answer] = []
    failures = 0
    issued = 0
    started = time.time()
    deadline = started + seconds

    async def user() -> None:
        nonlocal failures, issued
        while time.time() < deadline and issued < limit:
            n, issued = issued, issued + 1  # taken before the await, so no two users post the same body
            try:
                answers.append(await request(url, bodies[n % len(bodies)], headers))
            except (TimeoutError, OSError, IndexError, ValueError):
                failures += 1

    await asyncio.gather(*(user() for _ in range(connections)))
    return answers, failures, time.time() - started


def closed_loop(
    url: str,
    bodies: list[bytes],
    headers: dict[str, str],
    seconds: float,
    connections: int,
    limit: int = 10**9,
) -> tuple[Load, list[Answer]]:
    """`connections` users posting back to back until `seconds` pass or `limit` requests are done."""
    answers, failures, took = asyncio.run(_closed_loop(url, bodies, headers, seconds, connections, limit))
    latencies = [1000 * (a.answered_at - a.sent_at) for a in answers]
    errors = failures + sum(1 for a in answers if a.status >= 400)
    load = Load(
        "asyncio",
        len(answers),
        errors,
        took,
        len(answers) / took if took else 0.0,
        percentile(latencies, 50),
        percentile(latencies, 99),
    )
    return load, answers


async def _fixed_rate(url: str, bodies: list[bytes], headers: dict[str, str], rate: float) -> list[Answer]:
    started = time.time()
    pending = []
    for n, body in enumerate(bodies):
        await asyncio.sleep(max(0.0, started + n / rate - time.time()))
        pending.append(asyncio.ensure_future(request(url, body, headers)))
    return list(await asyncio.gather(*pending))


def fixed_rate(url: str, bodies: list[bytes], headers: dict[str, str], rate: float) -> list[Answer]:
    """Post each body once, `rate` per second, whatever the answers' pace (an open loop)."""
    return asyncio.run(_fixed_rate(url, bodies, headers, rate))


def throughput(
    url: str, bodies: list[bytes], headers: dict[str, str], seconds: float, connections: int
) -> Load:
    """Requests per second with p50 and p99 latency: wrk when installed, the asyncio client otherwise.

    A short warm-up first, so that each server process has opened its database and broker connections."""
    closed_loop(url, bodies, headers, 5, connections, limit=4 * connections)
    if have_wrk():
        return wrk(url, bodies, headers, seconds, connections)
    return closed_loop(url, bodies, headers, seconds, connections)[0]
