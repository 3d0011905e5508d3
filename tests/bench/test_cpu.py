"""Where a run's CPU went: the /proc reading, the parts, and the sums per report."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from bench import cpu


def test_it_reads_user_and_system_time_past_a_command_name_with_spaces_and_parentheses() -> None:
    stat = "4242 (odd (name) x) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0"
    assert cpu.cpu_seconds(stat, 100) == 3.0


def test_it_names_each_process_by_what_it_runs() -> None:
    assert cpu.part_of("python -m gunicorn --workers 2 services.intake.wsgi:app") == "intake"
    assert cpu.part_of("python -m celery -A services.notify.worker worker -Q notify") == "notify"
    assert cpu.part_of("postgres: postgres bench 127.0.0.1(5123) idle", "bench") == "PostgreSQL"
    assert cpu.part_of("/usr/bin/vim notes") is None


def test_it_counts_a_process_started_meanwhile_whole_and_sums_per_report() -> None:
    before = {1: ("intake", 10.0), 2: ("notify", 5.0)}
    after = {1: ("intake", 11.0), 2: ("notify", 5.5), 3: ("evaluation", 0.5)}
    used = cpu.spent(before, after)
    assert used == {"intake": 1.0, "notify": 0.5, "evaluation": 0.5}
    assert cpu.per_report(used, 100) == {"intake": 10.0, "notify": 5.0, "evaluation": 5.0, "all": 20.0}
    assert list(cpu.per_report(used, 100))[0] == "intake"
    assert cpu.per_report(used, 0) == {}


@pytest.mark.skipif(not cpu.PROC.is_dir(), reason="no /proc to read CPU times from (not Linux)")
def test_it_sees_the_cpu_a_running_worker_spends() -> None:
    # busy for 0.4 s of CPU, then idle until stopped (a process that ended is not seen: its
    # command line is gone)
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4:\n    pass\ntime.sleep(60)\n"
    before = cpu.snapshot()
    # the marker is an argument the script ignores: the process is named by its command line
    child = subprocess.Popen([sys.executable, "-c", busy, "services.notify.worker"])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            used = cpu.spent(before, cpu.snapshot())
            if used.get("notify", 0.0) >= 0.4:
                break
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert 0.4 <= used["notify"] <= 1.0
    assert cpu.OWN in used


def test_a_postgresql_backend_counts_only_for_the_database_under_test() -> None:
    ours = "postgres: 15/main: postgres bench_ab12 127.0.0.1(5123) idle"
    theirs = "postgres: 15/main: postgres scale 127.0.0.1(5124) SELECT"
    assert cpu.part_of(ours, "bench_ab12") == "PostgreSQL"
    assert cpu.part_of(theirs, "bench_ab12") is None
    assert cpu.part_of("postgres: postgres bench_ab12 [local] idle", "bench_ab12") == "PostgreSQL"
    assert cpu.part_of(ours, None) is None  # a run on SQLite counts no client's backend
    assert cpu.part_of("postgres: 15/main: walwriter", None) == "PostgreSQL"
    assert cpu.part_of("postgres: 15/main: autovacuum launcher", "bench_ab12") == "PostgreSQL"
