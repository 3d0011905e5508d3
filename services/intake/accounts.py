"""Users, passwords and API tokens: one function per use case, for the pages, the API and the CLI."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from services.intake import audit
from shared.models import ROLES, ApiToken, District, User, utcnow

TOKEN_PREFIX = "pw_"


class AccountError(ValueError):
    pass


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Session, email: str, role: str, district: str | None, password: str | None) -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role == "district":
        if not district or session.get(District, district) is None:
            raise AccountError(f"a district user needs a known --district (got {district!r})")
    elif district:
        raise AccountError("only district users belong to a district")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"a user with the email {email} already exists")
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
    row = session.scalar(
        select(ApiToken).where(ApiToken.digest == digest(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.active:
        return None
    return row.user


def check_password(session: Session, email: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active or not user.password_hash:
        return None
    return user if check_password_hash(user.password_hash, password) else None


def revoke(session: Session, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise AccountError(f"no token {token_id}")
    row.revoked_at = utcnow()


def set_active(session: Session, user: User, active: bool, actor_id: int | None) -> int:
    """Enable or disable a user; disabling also revokes every token. Returns how many were revoked.
    The caller commits."""
    user.active = active
    revoked = 0
    if not active:
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


def set_password(session: Session, user: User, password: str, actor_id: int | None) -> None:
    """Give a user a new password. The caller commits."""
    if len(password) < 8:
        raise AccountError("密码至少 8 位 / the password needs at least 8 characters")
    user.password_hash = generate_password_hash(password)
    audit.record(session, actor_id, "user.password", "user", str(user.id))
