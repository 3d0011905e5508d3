"""All configuration, read from environment variables in this one place.

Each setting is declared once below: the attribute, its variable, how its text is parsed and its
default (a value, or a function of the settings read before it). A malformed value stops the
service at start-up with one clear line instead of surfacing later as odd behaviour.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "dev-secret-change-me"
ENVIRONMENTS = ("development", "test", "production")
# The longest a task may wait in a worker before it runs (a Celery countdown): a retry of an event the
# database refused for a moment (1 s more each time, at most 11 s), or the prompt flush after a group
# wait that short. Anything later (delivery retries, longer group waits) is kept in the database and
# sent when due by the scheduler's periodic flush, so the broker's visibility timeout can stay short.
EVENT_RETRY_LIMIT = 11.0
PROMPT_FLUSH_LIMIT = 15.0

Parser = Callable[[str, str], Any]


class ConfigError(ValueError):
    """A configuration variable is missing or malformed."""


# --- parsers: (variable name, stripped non-empty text) → value ------------------------------------


def text(_name: str, raw: str) -> str:
    return raw


def url(_name: str, raw: str) -> str:
    return raw.rstrip("/")


def upper(_name: str, raw: str) -> str:
    return raw.upper()


def path(_name: str, raw: str) -> Path:
    return Path(raw)


def integer(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def number(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def boolean(name: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def days(name: str, raw: str) -> tuple[int, ...]:
    """A comma-separated list of whole days, such as "7,1", largest first."""
    try:
        values = tuple(sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True))
    except ValueError:
        raise ConfigError(f"{name} must be whole days separated by commas, got {raw!r}") from None
    if not values or min(values) < 0:
        raise ConfigError(f"{name} must list days of zero or more, got {raw!r}")
    return values


def words(name: str, raw: str) -> tuple[str, ...]:
    """A comma-separated list of names, such as hosts or networks."""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def hosts_or_networks(name: str, raw: str) -> tuple[str, ...]:
    """A comma-separated list of host names and IP networks, such as "mail.office.local,10.20.0.0/16"."""
    import ipaddress

    entries = words(name, raw)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            if not all(part.isalnum() or part in "-_." for part in entry) or entry.startswith((".", "-")):
                raise ConfigError(f"{name} must list host names or IP networks, got {entry!r}") from None
    return entries


def _internal_default(resolved: dict[str, Any]) -> tuple[str, ...]:
    """Loopback is allowed where `make run`'s mail sink and the tests' servers listen; production
    reaches no internal address unless told."""
    return () if resolved["env"] == "production" else ("127.0.0.0/8", "::1/128")


def time_zone(name: str, raw: str) -> str:
    """An IANA time zone name, such as Asia/Shanghai."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name} must be a time zone such as Asia/Shanghai, got {raw!r}") from None
    return raw


def one_of(*choices: str) -> Parser:
    def parse(name: str, raw: str) -> str:
        value = raw.lower()
        if value not in choices:
            raise ConfigError(f"{name} must be {' or '.join(choices)}, got {raw!r}")
        return value

    return parse


def setting(variable: str, parse: Parser, default: Any, doc: str = "") -> Any:
    """Declare one setting: its variable, parser and default (a value or a function of the settings
    already read, by attribute name)."""
    return field(metadata={"variable": variable, "parse": parse, "default": default, "doc": doc})


def _instance(resolved: dict[str, Any]) -> Path:
    return resolved["instance_dir"]


@dataclass(frozen=True)
class Settings:
    env: str = setting("PILOTWATCH_ENV", one_of(*ENVIRONMENTS), "development")
    instance_dir: Path = setting("PILOTWATCH_INSTANCE", path, ROOT / "instance")
    database_url: str = setting("DATABASE_URL", text, lambda s: f"sqlite:///{_instance(s) / 'pilotwatch.db'}")
    redis_url: str = setting("REDIS_URL", text, "")
    broker: str = setting("BROKER_URL", text, "")
    sentinel_master: str = setting("BROKER_SENTINEL_MASTER", text, "mymaster")
    secret_key: str = setting("SECRET_KEY", text, DEFAULT_SECRET)
    host: str = setting("HOST", text, "127.0.0.1")
    port: int = setting("PORT", integer, 8000)
    public_url: str = setting("PUBLIC_URL", url, lambda s: f"http://127.0.0.1:{s['port']}")
    smtp_from: str = setting("SMTP_FROM", text, "pilotwatch@localhost")
    sink_smtp_port: int = setting("SINK_SMTP_PORT", integer, 8025)
    publish_timeout: float = setting("PUBLISH_TIMEOUT", number, 1.0)
    outbox_relay_interval: float = setting("OUTBOX_RELAY_INTERVAL", number, 2.0)
    outbox_relay_age: float = setting("OUTBOX_RELAY_AGE", number, 5.0)
    cache_seconds: float = setting("CACHE_SECONDS", number, 30.0)
    delivery_max_attempts: int = setting("DELIVERY_MAX_ATTEMPTS", integer, 5)
    delivery_backoff: float = setting("DELIVERY_BACKOFF", number, 2.0)
    http_timeout: float = setting("HTTP_TIMEOUT", number, 10.0)
    # Times are stored in UTC and shown to people in the office's time zone.
    time_zone: str = setting("TIME_ZONE", time_zone, "Asia/Shanghai")
    rectification_days: int = setting("RECTIFICATION_DAYS", integer, 30)
    yellow_light_days: int = setting("YELLOW_LIGHT_DAYS", integer, 3)
    max_content_length: int = setting("MAX_CONTENT_LENGTH", integer, 2 * 1024 * 1024)
    web_concurrency: int = setting("WEB_CONCURRENCY", integer, 2)
    worker_concurrency: int = setting("WORKER_CONCURRENCY", integer, 1)
    log_level: str = setting("LOG_LEVEL", upper, "INFO")
    log_format: str = setting("LOG_FORMAT", one_of("json", "text"), "json")
    clock_file: str = setting("PILOTWATCH_CLOCK_FILE", text, "")
    timeliness_interval: float = setting("TIMELINESS_INTERVAL", number, 60.0)
    outlier_interval: float = setting("OUTLIER_INTERVAL", number, 3600.0)
    figures_interval: float = setting("FIGURES_INTERVAL", number, 15.0)
    reminder_days: tuple[int, ...] = setting("REMINDER_DAYS", days, (7, 1))
    reevaluate_chunk: int = setting("REEVALUATE_CHUNK", integer, 200)
    # An evaluation worker takes up to this many waiting reports with the one its event names.
    evaluation_batch: int = setting("EVALUATION_BATCH", integer, 20)
    group_wait: float = setting("GROUP_WAIT", number, 30.0)
    group_interval: float = setting("GROUP_INTERVAL", number, 300.0)
    repeat_interval: float = setting("REPEAT_INTERVAL", number, 7 * 86400.0)
    escalation_interval: float = setting("ESCALATION_INTERVAL", number, 7 * 86400.0)
    alert_flush_interval: float = setting("ALERT_FLUSH_INTERVAL", number, 5.0)
    delivery_stale_after: float = setting("DELIVERY_STALE_AFTER", number, 120.0)
    broker_visibility_timeout: float = setting("BROKER_VISIBILITY_TIMEOUT", number, 300.0)
    max_redeliveries: int = setting("MAX_REDELIVERIES", integer, 5)
    digest_hour: int = setting("DIGEST_HOUR_UTC", integer, 1)
    wecom_base_url: str = setting("WECOM_BASE_URL", url, "https://qyapi.weixin.qq.com")
    dingtalk_base_url: str = setting("DINGTALK_BASE_URL", url, "https://oapi.dingtalk.com")
    feishu_base_url: str = setting("FEISHU_BASE_URL", url, "https://open.feishu.cn")
    lark_base_url: str = setting("LARK_BASE_URL", url, "https://open.larksuite.com")
    channel_allowed_internal: tuple[str, ...] = setting(
        "CHANNEL_ALLOWED_INTERNAL", hosts_or_networks, _internal_default
    )
    upload_dir: Path = setting("UPLOAD_DIR", path, lambda s: _instance(s) / "uploads")
    upload_max_bytes: int = setting("UPLOAD_MAX_BYTES", integer, 1024 * 1024)
    sheet_max_rows: int = setting("SHEET_MAX_ROWS", integer, 2000)
    document_dir: Path = setting("DOCUMENT_DIR", path, lambda s: _instance(s) / "documents")
    document_templates: str = setting("DOCUMENT_TEMPLATES", text, "")
    login_max_failures: int = setting("LOGIN_MAX_FAILURES", integer, 5)
    login_lockout_seconds: int = setting("LOGIN_LOCKOUT_SECONDS", integer, 900)
    login_max_failures_per_address: int = setting("LOGIN_MAX_FAILURES_PER_ADDRESS", integer, 50)
    # reverse proxies in front of the intake that set X-Forwarded-For and -Proto (0: none, the headers
    # are ignored: anyone could send them)
    proxy_hops: int = setting("PROXY_HOPS", integer, 0)
    session_lifetime: int = setting("SESSION_LIFETIME", integer, 8 * 3600)
    session_idle_timeout: int = setting("SESSION_IDLE_TIMEOUT", integer, 2 * 3600)
    metrics_dir: Path = setting("METRICS_DIR", path, lambda s: _instance(s) / "metrics")
    metrics_host: str = setting("METRICS_HOST", text, "127.0.0.1")
    metrics_port: int = setting("METRICS_PORT", integer, 0)
    metrics_token: str = setting("METRICS_TOKEN", text, "")
    task_events: bool = setting("CELERY_TASK_EVENTS", boolean, False)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def flush_countdown(self) -> float | None:
        """How long after an event the notifier asks for a prompt flush of its group; None when the
        group wait is too long to hold as a countdown (the periodic flush sends the group when due)."""
        wait = self.group_wait + 0.5
        return wait if wait <= PROMPT_FLUSH_LIMIT else None

    @property
    def longest_countdown(self) -> float:
        """The longest delay a task waits in a worker before it runs: the prompt flush, or a retry of
        an event the database refused for a moment. Delivery retries are not countdowns: they wait in
        the database (`next_attempt_at`) and the periodic flush sends them when due."""
        return max(self.flush_countdown or 0.0, EVENT_RETRY_LIMIT)

    @property
    def broker_url(self) -> str:
        """BROKER_URL if set (redis://, sentinel:// or amqp://), else REDIS_URL, else a local Redis."""
        return self.broker or self.redis_url or "redis://127.0.0.1:6379/0"

    @property
    def redis_location(self) -> str:
        """The Redis that holds login throttles (and, unless BROKER_URL says otherwise, the queues)."""
        return self.redis_url or "redis://127.0.0.1:6379/0"


def variables() -> dict[str, str]:
    """Every setting's environment variable by attribute name, in declaration order."""
    return {f.name: f.metadata["variable"] for f in fields(Settings)}


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from `env` (the process environment by default)."""
    env = os.environ if env is None else env
    resolved: dict[str, Any] = {}
    for declared in fields(Settings):
        meta = declared.metadata
        raw = env.get(meta["variable"], "").strip()
        if raw:
            resolved[declared.name] = meta["parse"](meta["variable"], raw)
        else:
            default = meta["default"]
            resolved[declared.name] = default(resolved) if callable(default) else default
    settings = Settings(**resolved)
    check(settings)
    return settings


def check(settings: Settings) -> None:
    """Refuse combinations of values that cannot work together."""
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


def mask_credentials(address: str) -> str:
    """A server address (database, Redis) with its user and password hidden, for logs and pages."""
    if "@" in address and "://" in address:
        scheme, rest = address.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return address


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
