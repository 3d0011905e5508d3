"""`python -m bench.profile_page --database-url URL [--path /dashboard] [--round 2026H2] [--who supervisor]
[--after problem|report]`: where a page's time goes right after a change to its round (to one of its
problems, or a report), on a data set built before (`python -m bench.scale --build-only --database-url URL`).

Signs in through the app's test client with a Redis of its own, views the page once (templates
compiled, caches filled), then times it right after each of a few real changes to the round (the
round's kept figures are computed again, as after every report or ledger action) and once more with
nothing changed, and profiles one more view after a change with cProfile: our functions by cumulative
time, then every function by its own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import tempfile
from pathlib import Path

from bench import scale, scale_pages
from ops.redis_server import RedisServer
from shared import config

CHANGES = {"problem": scale_pages.change_the_round, "report": scale_pages.a_report_changed}


def run(url: str, path: str, round_code: str, who: str, changes: int, after: str = "problem") -> str:
    saved = dict(os.environ)
    folder = Path(tempfile.mkdtemp(prefix="pilotwatch-profile-page-"))
    redis = RedisServer().start()
    try:
        os.environ.clear()
        os.environ.update(scale.scale_env(folder, redis.url), DATABASE_URL=url)
        config.reset()
        from services.intake.app import create_app, settled
        from tests.support.web import AuthActions

        client = AuthActions(settled(create_app())).sign_in(who)
        scale_pages.timed_ms(client, path, {})
        change = CHANGES[after]
        times: list[float] = []
        for _ in range(changes):
            change(round_code)
            times.append(scale_pages.timed_ms(client, path, {}))
        unchanged = scale_pages.timed_ms(client, path, {})
        change(round_code)
        profile = cProfile.Profile()
        profile.enable()
        client.get(path)
        profile.disable()
    finally:
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.clear()
        os.environ.update(saved)
        config.reset()
    lines = [
        f"{path} as {who} on {url.split(':', 1)[0]}, round {round_code}:",
        f"  right after a change to a {after}: {', '.join(f'{ms:.0f}' for ms in times)} ms",
        f"  nothing changed: {unchanged:.0f} ms",
        "",
        "our functions by cumulative time (one view after a change, profiled):",
    ]
    ours = io.StringIO()
    pstats.Stats(profile, stream=ours).sort_stats("cumulative").print_stats(r"(services|shared)/", 40)
    lines += [ours.getvalue().split("\n", 4)[-1], "functions by own time:"]
    top = io.StringIO()
    pstats.Stats(profile, stream=top).sort_stats("tottime").print_stats(25)
    lines.append(top.getvalue().split("\n", 4)[-1])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a data set built by bench.scale --build-only")
    parser.add_argument("--path", default="/dashboard")
    parser.add_argument("--round", default="2026H2", help="the round whose data is changed")
    parser.add_argument(
        "--who", default=scale_pages.SUPERVISOR, choices=(scale_pages.SUPERVISOR, scale_pages.CLERK)
    )
    parser.add_argument("--changes", type=int, default=4, help="views timed right after a change")
    parser.add_argument(
        "--after",
        choices=sorted(CHANGES),
        default="problem",
        help="the change: to a problem (the figures resting on problems computed again) or a report (all)",
    )
    args = parser.parse_args()
    print(run(args.database_url, args.path, args.round, args.who, args.changes, args.after))


if __name__ == "__main__":
    main()
