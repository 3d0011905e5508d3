"""The evaluation service's commands: `pilotwatch rules try` (a changed rule set tried on a past round,
storing nothing) and `pilotwatch rounds reevaluate` (a round evaluated again across the workers)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from services.evaluation import reevaluate
from shared import config, db, outbox, preview
from shared.catalogue import CatalogueError
from shared.catalogue import store as catalogues
from shared.celery_app import make_celery
from shared.models import ReevaluationJob, Round


def print_preview(result: dict[str, Any]) -> None:
    click.echo(
        f"round {result['round']}: {result['reports']} reports; findings that would appear: "
        f"{result['appear']}, disappear: {result['disappear']}"
    )
    click.echo("per district / 按县（市）区:")
    for row in result["districts"]:
        click.echo(f"  {row['district_code']:<12} +{row['appear']:<5} -{row['disappear']}")
    click.echo("per rule / 按规则:")
    for row in result["rules"]:
        click.echo(f"  {row['rule_code']:<36} +{row['appear']:<5} -{row['disappear']}")
    if result.get("errors"):
        click.echo("rules that could not be evaluated / 未能评估的规则:")
        for row in result["errors"]:
            click.echo(
                f"  {row['rule_code']:<36} {row['reports']} report(s), {row['reason']}: {row['detail']}"
            )


def print_explanation(rows: list[dict[str, Any]]) -> None:
    marks = {"broken": "违反 / broken ", "held": "符合 / held   ", "skipped": "不适用 / skipped"}
    for row in rows:
        why = f"  {row['reason_zh']}" if row["reason_zh"] else ""
        said = f"  {'；'.join(row['messages_zh'])}" if row["messages_zh"] else ""
        click.echo(f"  [{marks[row['result']]}] {row['rule_code']:<34} {row['name_zh']}{why}{said}")


@click.command("try")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option("--round", "round_code", required=True, help="the round to try the rules on, such as 2023H2")
@click.option(
    "--report",
    "report_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a sample report (JSON, as the API takes it): show which rules apply to it and why not",
)
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
def rules_try(path: Path | None, round_code: str, report_path: Path | None, as_json: bool) -> None:
    """Evaluate a changed catalogue (or a file of `rules:` only; the round's own when none is given)
    against a round, or against one sample report with --report; stores nothing."""
    session = db.session()
    try:
        round_ = session.get(Round, round_code)
        if round_ is None:
            raise click.ClickException(f"no round {round_code}")
        current = catalogues.get(session, round_.catalogue_version)
        try:
            candidate = preview.read_candidate(current, path) if path else current
        except CatalogueError as exc:
            raise click.ClickException(
                "the rules were not tried:\n" + "\n".join(f"  - {p}" for p in exc.problems)
            ) from None
        if report_path is not None:
            try:
                sample = json.loads(report_path.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise click.ClickException(f"the report is not JSON: {exc}") from None
            if not isinstance(sample, dict):
                raise click.ClickException("the report must be a JSON object like the API's body")
            result: Any = preview.explain_report(session, candidate, dict(sample, round=round_code))
        else:
            result = preview.preview(session, round_code, candidate)
    finally:
        session.rollback()
        session.close()
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    elif report_path is not None:
        print_explanation(result)
    else:
        print_preview(result)


@click.command("reevaluate")
@click.argument("round_code")
@click.option("--chunk-size", type=click.IntRange(1, 10000), default=None, help="units per task")
@click.option(
    "--timeout", type=float, default=3600.0, show_default=True, help="seconds to wait for the workers"
)
@click.option("--no-wait", is_flag=True, help="send the chunks and return without waiting")
def rounds_reevaluate(round_code: str, chunk_size: int | None, timeout: float, no_wait: bool) -> None:
    """Evaluate a round again with its current catalogue, in chunks across the evaluation workers."""
    with db.transaction() as session:
        if session.get(Round, round_code) is None:
            raise click.ClickException(f"no round {round_code}")
        job, requests = reevaluate.start(session, round_code, chunk_size or config.current().reevaluate_chunk)
        job_id, total = job.id, job.total
    outbox.publish(make_celery("cli"), requests)
    click.echo(f"re-evaluation {job_id} of {round_code}: {total} units in {len(requests)} chunks sent")
    if no_wait or not requests:
        return
    wait(job_id, timeout)


def wait(job_id: str, timeout: float) -> None:
    deadline, shown = time.monotonic() + timeout, -1
    while True:
        with db.transaction() as session:
            job = session.get(ReevaluationJob, job_id)
            assert job is not None
            done, total, finished = job.done, job.total, job.finished_at is not None
            opened, resolved = job.opened, job.resolved
        if done != shown:
            click.echo(f"  {done}/{total} units")
            shown = done
        if finished:
            click.echo(f"done: {opened} findings opened, {resolved} resolved")
            return
        if time.monotonic() > deadline:
            raise click.ClickException(
                f"the workers did not finish within {timeout:g}s ({done}/{total}); the job goes on"
            )
        time.sleep(0.2)


COMMANDS: dict[str, list[click.Command]] = {"rules": [rules_try], "rounds": [rounds_reevaluate]}
