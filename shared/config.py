"""All configuration, read from environment variables in this one place.

Every helper fails loudly on a malformed value, so a typo in a deployment stops the
service at start-up instead of surfacing later as odd behaviour.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "dev-secret-change-me"


class ConfigError(ValueError):
    """A configuration variable is missing or malformed."""


def _str(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip()
    return value or default


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def _days(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """A comma-separated list of whole days, such as "7,1", largest first."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        days = tuple(sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True))
    except ValueError:
        raise ConfigError(f"{name} must be whole days separated by commas, got {raw!r}") from None
    if not days or min(days) < 0:
        raise ConfigError(f"{name} must list days of zero or more, got {raw!r}")
    return days


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    instance_dir: Path = ROOT / "instance"
    database_url: str = ""
    redis_url: str = ""
    secret_key: str = DEFAULT_SECRET
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    smtp_from: str = "pilotwatch@localhost"
    sink_smtp_port: int = 8025
    publish_timeout: float = 1.0
    outbox_relay_interval: float = 2.0
    outbox_relay_age: float = 5.0
    delivery_max_attempts: int = 5
    delivery_backoff: float = 2.0
    http_timeout: float = 10.0
    rectification_days: int = 30
    max_content_length: int = 2 * 1024 * 1024
    web_concurrency: int = 2
    worker_concurrency: int = 1
    log_level: str = "INFO"
    clock_file: str = ""
    timeliness_interval: float = 60.0
    outlier_interval: float = 3600.0
    reminder_days: tuple[int, ...] = (7, 1)
    reevaluate_chunk: int = 200
    group_wait: float = 30.0
    group_interval: float = 300.0
    repeat_interval: float = 7 * 86400.0
    escalation_interval: float = 7 * 86400.0
    alert_flush_interval: float = 5.0
    delivery_stale_after: float = 120.0
    broker_visibility_timeout: float = 3600.0
    max_redeliveries: int = 5
    digest_hour: int = 1
    wecom_base_url: str = "https://qyapi.weixin.qq.com"
    dingtalk_base_url: str = "https://oapi.dingtalk.com"
    feishu_base_url: str = "https://open.feishu.cn"
    lark_base_url: str = "https://open.larksuite.com"
    upload_dir: Path = ROOT / "instance" / "uploads"
    upload_max_bytes: int = 1024 * 1024
    login_max_failures: int = 5
    login_lockout_seconds: int = 900
    broker: str = ""
    sentinel_master: str = "mymaster"
    metrics_dir: Path = ROOT / "instance" / "metrics"
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    log_format: str = "json"
    task_events: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def longest_countdown(self) -> float:
        """The longest delay a task waits in a worker before it runs: the flush after the group wait,
        the last delivery retry (backoff with +25% jitter) or an evaluation retry (at most 11 s)."""
        retry = self.delivery_backoff * 2 ** max(self.delivery_max_attempts - 2, 0) * 1.25
        return max(self.group_wait + 0.5, retry, 11.0)

    @property
    def broker_url(self) -> str:
        """BROKER_URL if set (redis://, sentinel:// or amqp://), else REDIS_URL, else a local Redis."""
        return self.broker or self.redis_url or "redis://127.0.0.1:6379/0"

    @property
    def redis_location(self) -> str:
        """The Redis that holds login throttles (and, unless BROKER_URL says otherwise, the queues)."""
        return self.redis_url or "redis://127.0.0.1:6379/0"


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from `env` (the process environment by default)."""
    env = os.environ if env is None else env
    instance = Path(_str(env, "PILOTWATCH_INSTANCE", str(ROOT / "instance")))
    port = _int(env, "PORT", 8000)
    settings = Settings(
        env=_str(env, "PILOTWATCH_ENV", "development"),
        instance_dir=instance,
        database_url=_str(env, "DATABASE_URL", f"sqlite:///{instance / 'pilotwatch.db'}"),
        redis_url=_str(env, "REDIS_URL", ""),
        secret_key=_str(env, "SECRET_KEY", DEFAULT_SECRET),
        host=_str(env, "HOST", "127.0.0.1"),
        port=port,
        public_url=_str(env, "PUBLIC_URL", f"http://127.0.0.1:{port}").rstrip("/"),
        smtp_from=_str(env, "SMTP_FROM", "pilotwatch@localhost"),
        sink_smtp_port=_int(env, "SINK_SMTP_PORT", 8025),
        publish_timeout=_float(env, "PUBLISH_TIMEOUT", 1.0),
        outbox_relay_interval=_float(env, "OUTBOX_RELAY_INTERVAL", 2.0),
        outbox_relay_age=_float(env, "OUTBOX_RELAY_AGE", 5.0),
        delivery_max_attempts=_int(env, "DELIVERY_MAX_ATTEMPTS", 5),
        delivery_backoff=_float(env, "DELIVERY_BACKOFF", 2.0),
        http_timeout=_float(env, "HTTP_TIMEOUT", 10.0),
        rectification_days=_int(env, "RECTIFICATION_DAYS", 30),
        max_content_length=_int(env, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024),
        web_concurrency=_int(env, "WEB_CONCURRENCY", 2),
        worker_concurrency=_int(env, "WORKER_CONCURRENCY", 1),
        log_level=_str(env, "LOG_LEVEL", "INFO").upper(),
        clock_file=_str(env, "PILOTWATCH_CLOCK_FILE", ""),
        timeliness_interval=_float(env, "TIMELINESS_INTERVAL", 60.0),
        outlier_interval=_float(env, "OUTLIER_INTERVAL", 3600.0),
        reminder_days=_days(env, "REMINDER_DAYS", (7, 1)),
        reevaluate_chunk=_int(env, "REEVALUATE_CHUNK", 200),
        group_wait=_float(env, "GROUP_WAIT", 30.0),
        group_interval=_float(env, "GROUP_INTERVAL", 300.0),
        repeat_interval=_float(env, "REPEAT_INTERVAL", 7 * 86400.0),
        escalation_interval=_float(env, "ESCALATION_INTERVAL", 7 * 86400.0),
        alert_flush_interval=_float(env, "ALERT_FLUSH_INTERVAL", 5.0),
        delivery_stale_after=_float(env, "DELIVERY_STALE_AFTER", 120.0),
        broker_visibility_timeout=_float(env, "BROKER_VISIBILITY_TIMEOUT", 3600.0),
        max_redeliveries=_int(env, "MAX_REDELIVERIES", 5),
        digest_hour=_int(env, "DIGEST_HOUR_UTC", 1),
        wecom_base_url=_str(env, "WECOM_BASE_URL", "https://qyapi.weixin.qq.com").rstrip("/"),
        dingtalk_base_url=_str(env, "DINGTALK_BASE_URL", "https://oapi.dingtalk.com").rstrip("/"),
        feishu_base_url=_str(env, "FEISHU_BASE_URL", "https://open.feishu.cn").rstrip("/"),
        lark_base_url=_str(env, "LARK_BASE_URL", "https://open.larksuite.com").rstrip("/"),
        upload_dir=Path(_str(env, "UPLOAD_DIR", str(instance / "uploads"))),
        upload_max_bytes=_int(env, "UPLOAD_MAX_BYTES", 1024 * 1024),
        login_max_failures=_int(env, "LOGIN_MAX_FAILURES", 5),
        login_lockout_seconds=_int(env, "LOGIN_LOCKOUT_SECONDS", 900),
        broker=_str(env, "BROKER_URL", ""),
        sentinel_master=_str(env, "BROKER_SENTINEL_MASTER", "mymaster"),
        metrics_dir=Path(_str(env, "METRICS_DIR", str(instance / "metrics"))),
        metrics_host=_str(env, "METRICS_HOST", "127.0.0.1"),
        metrics_port=_int(env, "METRICS_PORT", 0),
        log_format=_str(env, "LOG_FORMAT", "json").lower(),
        task_events=_bool(env, "CELERY_TASK_EVENTS", False),
    )
    if settings.log_format not in ("json", "text"):
        raise ConfigError(f"LOG_FORMAT must be json or text, got {settings.log_format!r}")
    if settings.env not in ("development", "test", "production"):
        raise ConfigError(f"PILOTWATCH_ENV must be development, test or production, got {settings.env!r}")
    if settings.production and settings.clock_file:
        raise ConfigError("PILOTWATCH_CLOCK_FILE is for development and tests; unset it in production")
    if settings.broker_visibility_timeout <= settings.longest_countdown:
        raise ConfigError(
            f"BROKER_VISIBILITY_TIMEOUT must be longer than the longest countdown "
            f"({settings.longest_countdown:.0f} s), or scheduled tasks are delivered twice"
        )
    if settings.max_redeliveries < 1:
        raise ConfigError("MAX_REDELIVERIES must be 1 or more")
    if settings.production and settings.secret_key == DEFAULT_SECRET:
        raise ConfigError(
            "SECRET_KEY must be set to a long random value in production (PILOTWATCH_ENV=production)"
        )
    return settings


def hand_to_library(name: str, value: str) -> None:
    """Set a variable that a library reads from the environment itself (and our child processes inherit)."""
    os.environ[name] = value


def environ() -> dict[str, str]:
    """A copy of the process environment, for starting child processes."""
    return dict(os.environ)


_current: Settings | None = None


def current() -> Settings:
    """The settings of this process, read once."""
    global _current
    if _current is None:
        _current = load()
    return _current


def current_or_exit() -> Settings:
    """The settings, or one clear line on stderr and exit status 4 (gunicorn: "app failed to load").

    Every entry point (gunicorn's app, the workers, the scheduler, the CLI) calls this first, so a bad
    setting stops the process with its message instead of a wall of traceback."""
    try:
        return current()
    except ConfigError as exc:
        sys.stderr.write(f"配置错误 / configuration error: {exc}\n")
        sys.stderr.flush()
        raise SystemExit(4) from None


def reset() -> None:
    """Forget the cached settings (tests that change the environment call this)."""
    global _current
    _current = None
