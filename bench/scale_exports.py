"""Exports of a round timed on the scale data set, each in a fresh process so that its peak memory is
its own: rows a second, and how much the process grew while the file was sent. A whole round is
compared with one district's share of it (about a tenth): streamed, the two grow alike.

`python -m bench.scale_exports --what reports --kind csv --round 2026H2 [--district 350102]` prints
one JSON line; `run` starts those processes and pairs the results.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
EXPORTS = (("reports", "csv"), ("reports", "xlsx"), ("findings", "csv"), ("findings", "xlsx"))


def rss_kb(field: str) -> int:
    """VmRSS (now) or VmHWM (the peak) of this process, in KB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak() -> None:
    """Start the peak (VmHWM) again from the present size (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def path_of(what: str, kind: str, round_code: str, district: str | None) -> str:
    query = f"round={round_code}" + (f"&district={district}" if district else "")
    return f"/sheets/export/{what}.{kind}?{query}" + ("&status=all" if what == "findings" else "")


def once(what: str, kind: str, round_code: str, district: str | None) -> dict[str, Any]:
    """One export through the app as the supervisor, its body read chunk by chunk as a server would."""
    from services.intake.app import create_app
    from tests.support.web import AuthActions

    app = create_app()
    client = AuthActions(app).sign_in("supervisor")
    warm = client.get(path_of(what, kind, round_code, "none"), buffered=False)
    b"".join(warm.response)
    warm.close()
    before = rss_kb("VmRSS")
    reset_peak()
    started = time.perf_counter()
    answer = client.get(path_of(what, kind, round_code, district), buffered=False)
    size, lines = 0, 0
    for chunk in answer.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    answer.close()
    seconds = time.perf_counter() - started
    assert answer.status_code == 200, answer.status_code
    return {
        "what": what,
        "kind": kind,
        "district": district,
        "rows": count_rows(what, round_code, district),
        "bytes": size,
        "seconds": round(seconds, 3),
        "peak_mb": round(rss_kb("VmHWM") / 1024, 1),
        "growth_mb": round(max(rss_kb("VmHWM") - before, 0) / 1024, 1),
    }


def count_rows(what: str, round_code: str, district: str | None) -> int:
    from shared import db
    from shared.models import Finding, PilotUnit, Submission

    with db.transaction() as session:
        if what == "findings":
            query = select(func.count()).select_from(Finding).where(Finding.round_code == round_code)
            if district:
                query = query.where(Finding.district_code == district)
        else:
            query = (
                select(func.count(func.distinct(Submission.unit_id)))
                .join(PilotUnit)
                .where(Submission.round_code == round_code)
            )
            if district:
                query = query.where(PilotUnit.district_code == district)
        return session.scalar(query) or 0


def tenth_district(round_code: str) -> str:
    """The district whose units' reports come closest to a tenth of the round's."""
    from shared import db
    from shared.models import PilotUnit, Submission

    with db.transaction() as session:
        per = dict(
            session.execute(
                select(PilotUnit.district_code, func.count(func.distinct(Submission.unit_id)))
                .join(PilotUnit)
                .where(Submission.round_code == round_code)
                .group_by(PilotUnit.district_code)
            ).all()
        )
    total = sum(per.values())
    return min(per, key=lambda d: abs(per[d] - total / 10))


def run(env: dict[str, str], round_code: str) -> list[dict[str, Any]]:
    """Each export of the round whole and of a tenth of it, each in its own process."""
    district = tenth_district(round_code)
    out = []
    for what, kind in EXPORTS:
        pair = {}
        for part, chosen in (("small", district), ("whole", None)):
            command = [sys.executable, "-m", "bench.scale_exports", "--what", what, "--kind", kind]
            command += ["--round", round_code] + (["--district", chosen] if chosen else [])
            done = subprocess.run(
                command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=900, check=False
            )
            if done.returncode:
                raise RuntimeError(f"export {what}.{kind} failed:\n{done.stderr[-2000:]}")
            pair[part] = json.loads(done.stdout.strip().splitlines()[-1])
        whole, small = pair["whole"], pair["small"]
        out.append(
            {
                "what": what,
                "kind": kind,
                "rows": whole["rows"],
                "rows_per_second": round(whole["rows"] / max(whole["seconds"], 1e-6)),
                "peak_mb": whole["peak_mb"],
                "growth_mb": whole["growth_mb"],
                "small_rows": small["rows"],
                "small_peak_mb": small["peak_mb"],
                "small_growth_mb": small["growth_mb"],
                "runs": pair,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="One export of the scale data set, timed and measured.")
    parser.add_argument("--what", choices=("reports", "findings"), required=True)
    parser.add_argument("--kind", choices=("csv", "xlsx"), required=True)
    parser.add_argument("--round", required=True)
    parser.add_argument("--district")
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    print(json.dumps(once(args.what, args.kind, args.round, args.district)))


if __name__ == "__main__":
    main()
