"""Figures computed from a round's data, kept in Redis until that data changes.

A round's league tables and score lists are computed from every report, evaluation and problem of the
round: at a province's size (10,000 units) that takes seconds, and a dashboard asks for them at every
view. `kept(session, name, rounds, compute)` keeps what `compute()` returned (plain JSON data) under a
stamp of what it was computed from, and gives it back while the stamp holds:

- each round has a number in Redis, raised by every committed change (made through the ORM, in any
  process) to that round's reports, evaluations, problems or cases;
- and a second number (`reports_of(round)`), raised only by a change to its reports or evaluations:
  figures computed from those alone (the outcomes compared with an earlier round, the heaviest part
  of a league table) are named with it and outlive a change to the round's problems;
- one number for the whole register, raised by a change to pilot units, districts, batches, rounds or
  catalogue versions, which every round's figures read.

A raise of a round's numbers made by a committed change through the ORM also notes which units the
change touched (their reports, evaluations, problems or cases), under the number it raised to
(`touched`): a process holding a round's figures per unit (services/intake/round_units.py) brings them
up to date by reading those units alone.

Figures are kept under the stamp read before the session first read any round data (`begin_reads`,
also called by the reads a session caches for several figures), so figures computed while a change
commits, or from rows the session read before it, are kept under the older stamp and computed again at
the next look-up. A session with changes not yet committed
computes its own figures and keeps nothing. Without Redis every look-up computes. A kept entry lasts
`KEEP_SECONDS` at most, so that a raise lost to a Redis outage (the change committed, Redis not reached)
does not keep old figures for longer than that.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.util import identity_key

from shared import caches, config
from shared.models import (
    Case,
    CatalogueVersion,
    District,
    Evaluation,
    Finding,
    PilotBatch,
    PilotUnit,
    Round,
    Submission,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
# The register's number and every round's number, as noted at one moment.
# The register's number, every round's number and the numbers' epoch (`_look_up`), as noted at one moment.
_Noted = tuple[str | None, dict[str, str], str | None]

KEEP_SECONDS = 3600
# What a round's figures are computed from: a change to one of these raises its round's number.
OF_A_ROUND: tuple[type, ...] = (Submission, Evaluation, Finding, Case)
# Of those, a round's reports and their evaluations: a change to one also raises the number of the
# round's reports (`reports_of`), under which figures computed from reports alone are kept.
REPORTS_OF_A_ROUND: tuple[type, ...] = (Submission, Evaluation)
# What every round's figures read: a change raises the register's number.
REGISTER: tuple[type, ...] = (PilotUnit, District, PilotBatch, Round, CatalogueVersion)
_TOUCHED = "kept_rounds_touched"
_WROTE = "kept_wrote"
_BEFORE = "kept_stamps_before_reads"
_UNITS = "kept_units_touched"
# The touched units noted per round, newest entries first kept: a reader further behind reads whole.
TOUCHED_KEPT = 1_000
NOTED_UNITS = 2_000  # a change touching more units than this notes none (its readers read whole)
# Raise a round's reports number and note the units under the number raised to, in one step: every
# number has its entry, so a reader finding one missing (a raise with no units) knows to read whole.
_RAISE_NOTING_UNITS = """
local number = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('ZADD', KEYS[2], number, number .. ':' .. ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[3]) + 1))
return number
"""
_RAISE_NOTING_SHA = hashlib.sha1(_RAISE_NOTING_UNITS.encode()).hexdigest()
ALL = "*"  # a change whose round is not known: every round's figures are computed again


def reports_of(round_code: str) -> str:
    """What figures computed from a round's reports and evaluations alone (not its problems or cases)
    name as their round: its number is raised only by a change to those, so such figures outlive a
    problem acknowledged, rectified or verified."""
    return f"{round_code}:reports"


def _prefix(settings: config.Settings) -> str:
    return f"pilotwatch:kept:{caches.namespace(settings)}"


def rounds_key(settings: config.Settings) -> str:
    return f"{_prefix(settings)}:rounds"


def register_key(settings: config.Settings) -> str:
    return f"{_prefix(settings)}:register"


def touched_key(settings: config.Settings, numbered: str) -> str:
    return f"{_prefix(settings)}:touched:{numbered}"


def epoch_key(settings: config.Settings) -> str:
    return f"{_prefix(settings)}:epoch"


def entry_key(settings: config.Settings, name: str, rounds: Iterable[str]) -> str:
    return f"{_prefix(settings)}:entry:{name}:{'|'.join(rounds)}"


def noted(session: Session) -> _Noted | None:
    """The numbers the session noted before its first read of round data in this transaction (None:
    not noted, or Redis was not reached)."""
    return session.info.get(_BEFORE)  # type: ignore[no-any-return]


def wrote(session: Session) -> bool:
    """Whether the session flushed changes to round or register data not yet committed."""
    return bool(session.info.get(_WROTE))


def touched(settings: config.Settings, numbered: str, since: int, until: int) -> set[int] | None:
    """The units whose reports or evaluations the changes numbered `since` (excluded) to `until` of
    `numbered` (a round's reports, `reports_of`) touched; None when one of those numbers has no units
    noted (raised without them, or its entry dropped as old): the reader reads whole."""
    if until <= since:
        return set()
    try:
        entries = caches.redis_client(settings).zrangebyscore(
            touched_key(settings, numbered), f"({since}", until
        )
    except redis.RedisError as exc:
        log.debug("kept figures: touched units not read: %s", exc)
        return None
    numbers, units = set(), set()
    for entry in entries:
        number, _sep, ids = entry.decode().partition(":")
        numbers.add(int(number))
        units.update(int(unit) for unit in ids.split(",") if unit)
    return units if len(numbers) == until - since else None


def _look_up(settings: config.Settings, key: str | None) -> tuple[_Noted, Any]:
    """The register's number, every round's and their epoch now, and the entry kept under `key` (None
    when there is none, or no key is given), in one round trip.

    The epoch is a token made at the first look-up and gone with the numbers: a Redis emptied starts
    its numbers again from nothing, and what a process holds under the old ones (round_units.py) must
    not be taken for the new."""
    pipe = caches.redis_client(settings).pipeline(transaction=False)
    pipe.set(epoch_key(settings), uuid.uuid4().hex, nx=True)
    pipe.get(epoch_key(settings))
    pipe.get(register_key(settings))
    pipe.hgetall(rounds_key(settings))
    if key is not None:
        pipe.get(key)
    _made, epoch, register, numbers, *found = pipe.execute()
    entry = json.loads(found[0]) if found and found[0] is not None else None
    return (_text(register), {k.decode(): v.decode() for k, v in numbers.items()}, _text(epoch)), entry


def _stamp(noted: _Noted, rounds: list[str]) -> list[str | None]:
    """The stamp of figures that read the `rounds`: the register's number, each round's, and `ALL`'s."""
    register, numbers, _epoch = noted
    return [register, *(numbers.get(code) for code in rounds), numbers.get(ALL)]


def begin_reads(session: Session, settings: config.Settings | None = None) -> None:
    """Note every round's number and the register's before the session's first read of round data in
    this transaction: what it computes from those reads is kept under them (an entry computed from rows
    read before a change committed must not be kept under the number that change raised)."""
    if _BEFORE in session.info:
        return
    settings = settings or config.current()
    try:
        noted, _entry = _look_up(settings, None)
    except redis.RedisError as exc:
        log.debug("kept figures: numbers not noted before the reads: %s", exc)
        session.info[_BEFORE] = None
        return
    session.info[_BEFORE] = noted


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_stamps(session: Session, *_args: Any) -> None:
    session.info.pop(_BEFORE, None)


def peek(name: str, rounds: list[str]) -> Any:
    """The figures kept under `name` if they still hold, else None; never computes."""
    settings = config.current()
    noted, entry = _look_up(settings, entry_key(settings, name, rounds))
    return entry["value"] if entry is not None and entry.get("stamp") == _stamp(noted, rounds) else None


def kept(session: Session, name: str, rounds: list[str], compute: Callable[[], T]) -> T:
    """What `compute()` gives for figures named `name` that read the `rounds` (their codes): kept from
    an earlier call while none of those rounds nor the register changed since."""
    if session.new or session.dirty or session.deleted or session.info.get(_WROTE):
        return compute()  # our own changes are not committed: nothing to keep or to trust
    settings = config.current()
    key = entry_key(settings, name, rounds)
    try:
        noted, entry = _look_up(settings, key)
    except redis.RedisError as exc:
        log.debug("kept figures: Redis not reached, computed: %s", exc)
        session.info.setdefault(_BEFORE, None)
        return compute()
    # the session's first look-up notes the numbers before its first read of round data
    before = session.info.setdefault(_BEFORE, noted)
    if entry is not None and entry.get("stamp") == _stamp(noted, rounds):
        return entry["value"]  # type: ignore[no-any-return]
    value = compute()
    if before is None:
        return value  # the numbers before the reads are not known: nothing is kept
    try:
        caches.redis_client(settings).set(
            key,
            json.dumps({"stamp": _stamp(before, rounds), "value": value}, ensure_ascii=False),
            ex=KEEP_SECONDS,
        )
    except redis.RedisError as exc:
        log.debug("kept figures: not kept: %s", exc)
    return value


def _text(number: bytes | None) -> str | None:
    return number.decode() if number is not None else None


def _round_of(session: Session, obj: Any) -> str:
    if isinstance(obj, Evaluation):
        report = session.identity_map.get(identity_key(Submission, obj.submission_id))
        return report.round_code if report is not None else ALL
    return obj.round_code or ALL


def _unit_of(session: Session, obj: Any) -> int | None:
    if isinstance(obj, Evaluation):
        report = session.identity_map.get(identity_key(Submission, obj.submission_id))
        return report.unit_id if report is not None else None
    return obj.unit_id  # type: ignore[no-any-return]


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    rounds: set[str] = session.info.setdefault(_TOUCHED, set())
    units: dict[str, set[int] | None] = session.info.setdefault(_UNITS, {})
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, OF_A_ROUND):
            code = _round_of(session, obj)
            rounds.add(code)
            if code == ALL:
                continue
            unit = _unit_of(session, obj)
            numbered = (code, reports_of(code)) if isinstance(obj, REPORTS_OF_A_ROUND) else (code,)
            for name in numbered:
                rounds.add(name)
                known = units.get(name, set())
                units[name] = known | {unit} if known is not None and unit is not None else None
        elif isinstance(obj, REGISTER):
            rounds.add("")  # the register
    if rounds:
        session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_WROTE, None)
    rounds = session.info.pop(_TOUCHED, None)
    units = session.info.pop(_UNITS, None)
    held = _HELD.get()
    if rounds and held is not None:
        held.append((rounds, units or {}))
    elif rounds:
        changed(rounds, units=units)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_WROTE, None)
    session.info.pop(_TOUCHED, None)
    session.info.pop(_UNITS, None)


def changed(
    rounds: Iterable[str],
    settings: config.Settings | None = None,
    units: dict[str, set[int] | None] | None = None,
) -> None:
    """The rounds' data changed ("" for the register, `ALL` for every round): raise their numbers.
    `units`: by a round's number (its own or its reports', `reports_of`), the units whose data changed,
    noted under the number raised to (None, or a round left out: not known)."""
    settings = settings or config.current()
    codes = sorted(set(rounds))
    units = units or {}
    try:
        client = caches.redis_client(settings)
        if len(codes) == 1 and codes[0] and not units.get(codes[0]):  # one round's problem or case
            client.hincrby(rounds_key(settings), codes[0], 1)
            return
        pipe = client.pipeline(transaction=False)
        check = _queue_raises(pipe, settings, codes, units)
        check(client, pipe.execute(raise_on_error=False))
    except redis.RedisError as exc:
        log.warning("kept figures: a change not noted, figures may be %s s old: %s", KEEP_SECONDS, exc)


Answers = Callable[[redis.Redis, list[Any]], None]


def _queue_raises(
    pipe: Any, settings: config.Settings, codes: list[str], units: dict[str, set[int] | None]
) -> Answers:
    """Queue the raises on `pipe` (after whatever it holds already); returns what checks their answers
    among the pipeline's, raising the first error."""
    noting: dict[int, tuple[Any, ...]] = {}  # the raises noting units, by their place in the pipeline
    places = []
    for code in codes:
        places.append(len(pipe))
        if code and units.get(code) and len(units[code] or ()) <= NOTED_UNITS:
            ids = ",".join(str(unit) for unit in sorted(units[code] or ()))
            noting[len(pipe)] = (
                2,
                rounds_key(settings),
                touched_key(settings, code),
                code,
                ids,
                TOUCHED_KEPT,
            )
            pipe.evalsha(_RAISE_NOTING_SHA, *noting[len(pipe)])
        elif code:
            pipe.hincrby(rounds_key(settings), code, 1)
        else:
            pipe.incr(register_key(settings))

    def check(client: redis.Redis, answers: list[Any]) -> None:
        # The script by its digest, in the same round trip (redis-py's Script objects would ask Redis
        # whether it knows the script first, at every commit); a Redis that does not (restarted) is
        # given it whole for those raises alone: the others are done already.
        for place in places:
            answer = answers[place]
            if isinstance(answer, redis.exceptions.NoScriptError) and place in noting:
                client.eval(_RAISE_NOTING_UNITS, *noting[place])
            elif isinstance(answer, Exception):
                raise answer

    return check


# The raises of the commits made in a `raises_held` block, not sent yet.
_HELD: ContextVar[list[tuple[set[str], dict[str, set[int] | None]]] | None] = ContextVar(
    "kept_raises_held", default=None
)


@contextmanager
def raises_held() -> Iterator[None]:
    """The numbers the commits made in the block raise go to Redis with the next pipeline that asks for
    them (`add_held`: the outbox's note of the events the commit sent), else at the block's end: a
    report's commit and its event's note then cost Redis one round trip instead of two. A view reading
    in between keeps what it computes under the numbers before the change, as with any raise."""
    token = _HELD.set([])
    try:
        yield
    finally:
        held = _HELD.get() or []
        _HELD.reset(token)
        if held:
            rounds, units = _merged(held)
            changed(rounds, units=units)


def holding() -> bool:
    """Whether raises wait to go with the next pipeline (`add_held`)."""
    return bool(_HELD.get())


def add_held(pipe: Any, settings: config.Settings) -> Answers:
    """Queue the raises held back on `pipe`; returns what checks their answers once it is executed,
    which lets them go (when the pipeline fails they stay held, for the block's end to send)."""
    held = _HELD.get() or []
    if not held:
        return lambda _client, _answers: None
    rounds, units = _merged(held)
    check = _queue_raises(pipe, settings, sorted(rounds), units)

    def sent(client: redis.Redis, answers: list[Any]) -> None:
        del held[:]
        try:
            check(client, answers)
        except redis.RedisError as exc:
            log.warning("kept figures: a change not noted, figures may be %s s old: %s", KEEP_SECONDS, exc)

    return sent


def _merged(
    held: list[tuple[set[str], dict[str, set[int] | None]]],
) -> tuple[set[str], dict[str, set[int] | None]]:
    """Several commits' raises as one: every number raised, each noting the units of all of them (not
    known when one of them did not know its own)."""
    rounds: set[str] = set()
    units: dict[str, set[int] | None] = {}
    for their_rounds, their_units in held:
        for code in their_rounds:
            known, theirs = units.get(code, set()) if code in rounds else set(), their_units.get(code)
            units[code] = known | theirs if known is not None and theirs is not None else None
        rounds |= their_rounds
    return rounds, units
