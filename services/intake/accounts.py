"""Users, passwords and API tokens: one function per use case, for the pages, the API and the CLI."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from services.intake import audit, speech
from shared import caches, labels
from shared.models import ROLES, ApiToken, District, User, utcnow

TOKEN_PREFIX = "pw_"
MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
# A token's digest → a copy of its user (see user_for_token).
_token_users: caches.TimedCache[User] = caches.TimedCache("API tokens")


class AccountError(ValueError):
    pass


class PasswordRefused(AccountError):
    """The password breaks a rule; `rule` names which ("too_short" or "common"), for the pages'
    own translated message."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_password_rules(password: str, email: str = "") -> None:
    """The one place the password rules live (the CLI and the administration page alike)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRefused(
            "too_short",
            _("密码至少需要 %(count)d 个字符", count=MIN_PASSWORD_LENGTH),
        )
    lowered = password.lower()
    if lowered in common_passwords() or (email and lowered in (email.lower(), email.lower().split("@")[0])):
        raise PasswordRefused(
            "common",
            _("该密码过于常见或与邮箱相同，请换一个"),
        )


@cache
def dummy_hash() -> str:
    """A hash to check unknown emails against, so that they take as long as known ones."""
    return generate_password_hash(secrets.token_urlsafe(16))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_role(session: Session, role: str, district: str | None) -> None:
    if role not in ROLES:
        raise AccountError(
            _("请选择角色：%(roles)s", roles="、".join(labels.role(r, speech.locale()) for r in ROLES))
        )
    if role == "district" and (not district or session.get(District, district) is None):
        raise AccountError(_("县（市）区填报人员须选择所属县（市）区"))
    if role != "district" and district:
        raise AccountError(_("只有县（市）区填报人员属于某个县（市）区，其他角色请不要选择县（市）区"))


def create_user(session: Session, email: str, role: str, district: str | None, password: str | None) -> User:
    email = email.strip().lower()
    check_role(session, role, district)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(_("邮箱为 %(email)s 的用户已存在", email=email))
    if password:
        check_password_rules(password, email)
    user = User(
        email=email,
        role=role,
        district_code=district,
        password_hash=generate_password_hash(password) if password else "",
    )
    session.add(user)
    session.flush()
    return user


def issue_token(session: Session, user: User) -> str:
    """Make a new API token; only its digest is stored, so this is the one time it is seen."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(36)
    session.add(ApiToken(user_id=user.id, digest=digest(token), prefix=token[:10]))
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The active user of a token that is not revoked. Kept per process (`shared.caches`): revoking a
    token, disabling or deleting its user, or changing the user empties the cache at once."""
    key = digest(token)
    user = _token_users.get(key, lambda: _token_user(session, key))
    return None if user is None else session.merge(user, load=False)


def _token_user(session: Session, key: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.digest == key, ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.active:
        return None
    return caches.snapshot(row.user)


def check_password(session: Session, email: str, password: str) -> User | None:
    """The user with this email and password, if active. An unknown email (or a user without a
    password) costs the same hashing as a known one, so the time taken tells nothing."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    stored = user.password_hash if user is not None else ""
    matches = check_password_hash(stored or dummy_hash(), password)
    if user is None or not stored or not matches or not user.active:
        return None
    return user


def session_stamp(user: User) -> str:
    """What a signed-in session must still match on each request: it changes when the user's
    sessions are ended, and when the password, role or district changes."""
    basis = f"{user.id}:{user.session_version}:{user.role}:{user.district_code}:{user.password_hash}"
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def end_sessions(session: Session, user: User) -> None:
    """End every signed-in session of the user, wherever its cookie is. The caller commits."""
    user.session_version = (user.session_version or 0) + 1


def revoke(session: Session, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise AccountError(_("没有该令牌：%(id)s", id=token_id))
    row.revoked_at = utcnow()


def set_active(session: Session, user: User, active: bool, actor_id: int | None) -> int:
    """Enable or disable a user; disabling also revokes every token. Returns how many were revoked.
    The caller commits."""
    user.active = active
    revoked = 0
    if not active:
        end_sessions(session, user)
        for token in user.tokens:
            if token.revoked_at is None:
                token.revoked_at, revoked = utcnow(), revoked + 1
    audit.record(
        session,
        actor_id,
        "user.activate" if active else "user.deactivate",
        "user",
        str(user.id),
        {"tokens": revoked},
    )
    return revoked


def set_role(session: Session, user: User, role: str, district: str | None, actor_id: int | None) -> None:
    """Give a user another role or district; their sessions end (what they may see changed).
    The caller commits."""
    check_role(session, role, district)
    user.role, user.district_code = role, district if role == "district" else None
    end_sessions(session, user)
    audit.record(session, actor_id, "user.role", "user", str(user.id), {"role": role, "district": district})


def set_password(session: Session, user: User, password: str, actor_id: int | None) -> None:
    """Give a user a new password and end their sessions. The caller commits."""
    check_password_rules(password, user.email)
    user.password_hash = generate_password_hash(password)
    end_sessions(session, user)
    audit.record(session, actor_id, "user.password", "user", str(user.id))
