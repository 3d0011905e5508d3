"""`pilotwatch up`: the whole stack on one machine with nothing but Python.

Prepares the database and the demo data, starts an embedded Redis (unless REDIS_URL names one),
a local SMTP sink, the intake web service, the evaluation, notify and intake workers and the
scheduler, prints where to open the browser, and stops every process it started on Ctrl-C. A worker,
the scheduler or the mail sink that dies is started again (ops/supervisor.py); the intake's or Redis's
death stops everything.
"""

from __future__ import annotations

import signal
import time
import urllib.request

from sqlalchemy import select

from ops import commands, demo, demo_activity
from ops.ports import free_port, port_free
from ops.redis_server import RedisServer
from ops.supervisor import Supervisor
from shared import config, db, migrate
from shared.models import Channel, District

SINK_LABEL = "本地演示邮箱 / local mail sink"


def sink_channels(sink_port: int) -> None:
    """Point every district's demo mail channel at this run's local SMTP sink."""
    url = f"mailto://127.0.0.1:{sink_port}?smtp=127.0.0.1&from=pilotwatch@localhost&to=clerk@localhost&mode=insecure"
    with db.transaction() as session:
        for district in session.scalars(select(District)):
            channel = session.scalar(
                select(Channel).where(Channel.district_code == district.code, Channel.label == SINK_LABEL)
            )
            if channel is None:
                session.add(Channel(district_code=district.code, kind="mailto", url=url, label=SINK_LABEL))
            else:
                channel.url = url


def wait_for(url: str, supervisor: Supervisor, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if supervisor.check() is not None:
            return False
        try:
            urllib.request.urlopen(url, timeout=1)
            return True
        except OSError:
            time.sleep(0.3)
    return False


def run(load_demo: bool = True) -> int:
    settings = config.current()
    instance = settings.instance_dir
    instance.mkdir(parents=True, exist_ok=True)
    print(f"pilotwatch: database {settings.database_url.split('@')[-1]}", flush=True)
    migrate.upgrade()
    users: list[tuple[str, str, str]] = []
    if load_demo:
        with db.transaction() as session:
            users = demo.load(session)
            demo_activity.load(session)

    redis_server = None
    env = config.environ()
    env["DATABASE_URL"] = settings.database_url
    env.setdefault("LOG_FORMAT", "text")  # a person reads this terminal; compose keeps JSON lines
    if not settings.redis_url:
        redis_server = RedisServer(folder=instance / "redis", appendonly=True).start()
        env["REDIS_URL"] = redis_server.url
        pid = redis_server.process.pid if redis_server.process else "?"
        print(f"pilotwatch: embedded Redis on port {redis_server.port} (pid {pid})", flush=True)
    sink_port = settings.sink_smtp_port if port_free(settings.sink_smtp_port) else free_port()
    if load_demo:
        sink_channels(sink_port)
    env.setdefault("PUBLIC_URL", settings.public_url)
    concurrency = settings.worker_concurrency
    interrupted = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal interrupted
        interrupted = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    supervisor = Supervisor(env, config.ROOT, say=lambda line: print(line, flush=True))
    try:
        supervisor.add("mail sink", commands.mail_sink(sink_port, instance / "mail"))
        supervisor.add(
            "intake",
            commands.intake(f"{settings.host}:{settings.port}", settings.web_concurrency),
            essential=True,
        )
        supervisor.add("evaluation", commands.worker("evaluation", concurrency))
        supervisor.add("notify", commands.worker("notify", concurrency))
        supervisor.add("intake worker", commands.worker("intake", concurrency))
        supervisor.add("scheduler", commands.scheduler(instance / "celerybeat-schedule"))
        url = f"http://{'127.0.0.1' if settings.host in ('0.0.0.0', '') else settings.host}:{settings.port}"
        if not wait_for(url + "/healthz", supervisor):
            print("pilotwatch: the stack did not come up; see the messages above", flush=True)
            return 1
        print("", flush=True)
        print(f"Pilotwatch is running: open {url}", flush=True)
        print(f"  API description: {url}/api/v1/openapi.json", flush=True)
        print(
            f"  alerts to the demo districts go to the local mail sink (smtp 127.0.0.1:{sink_port}), "
            f"kept in {instance / 'mail'}",
            flush=True,
        )
        for email, role, password in users:
            print(f"  log in as {role:<10} {email} / {password}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while not interrupted:
            reason = supervisor.check()
            if reason is None and redis_server is not None and not redis_server.alive():
                reason = "the embedded Redis exited"
            if reason is not None:
                print(f"pilotwatch: {reason}; stopping", flush=True)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        print("pilotwatch: stopping", flush=True)
        supervisor.stop_all()
        if redis_server is not None:
            redis_server.stop()
