"""Review-app accounts: users with argon2 password hashes, server-side sessions, login limits.

Sessions live in the claim store's database (one row per login, the cookie holds a random
token whose SHA-256 is the key), so a restart keeps people logged in and logout really ends
a session. Each session has its own CSRF token. Each user's language (Chinese by default,
English on request) is kept in a settings table beside the accounts.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import DateTime, String, delete, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flows.i18n import DEFAULT_LANGUAGE, Language
from infra.store import ClaimStore
from pipeline.errors import IntakeError

MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = "^[a-z][a-z0-9_.-]{1,31}$"


class Role(StrEnum):
    CLAIMANT = "claimant"  # the upload page only
    REVIEWER = "reviewer"
    ADMIN = "admin"


class AccountError(IntakeError):
    reason = "account_error"


def _now() -> datetime:
    return datetime.now(UTC)


class WebBase(DeclarativeBase):
    pass


class UserRow(WebBase):
    __tablename__ = "web_users"

    username: Mapped[str] = mapped_column(String(32), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class UserSettingsRow(WebBase):
    """Per-user preferences; a row exists only once a user changed something."""

    __tablename__ = "web_user_settings"

    username: Mapped[str] = mapped_column(String(32), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), default=DEFAULT_LANGUAGE.value)


class SessionRow(WebBase):
    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(32), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class SessionUser:
    username: str
    role: Role
    csrf_token: str
    language: Language = DEFAULT_LANGUAGE

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_reviewer(self) -> bool:
        """Reviewers and admins work the review queue; claimants only upload."""
        return self.role in (Role.REVIEWER, Role.ADMIN)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Accounts:
    """Users and sessions over the claim store's database."""

    def __init__(self, store: ClaimStore, session_hours: float = 8.0) -> None:
        self.store = store
        self.session_length = timedelta(hours=session_hours)
        self.hasher = PasswordHasher()
        self._decoy_hash = self.hasher.hash(secrets.token_hex(16))
        WebBase.metadata.create_all(store.engine)

    def add_user(self, username: str, password: str, role: Role) -> None:
        import re

        if not re.match(USERNAME_PATTERN, username):
            raise AccountError(
                f"user name {username!r} is not allowed: 2-32 characters, lower-case letters, "
                "digits, '.', '_' or '-', starting with a letter"
            )
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        with self.store.session() as session:
            if session.get(UserRow, username) is not None:
                raise AccountError(f"user {username!r} exists already")
            session.add(
                UserRow(username=username, password_hash=self.hasher.hash(password), role=role)
            )

    def set_password(self, username: str, password: str, role: Role) -> None:
        """Create the user, or give an existing one a new password and this role."""
        with self.store.session() as session:
            row = session.get(UserRow, username)
            if row is not None:
                row.password_hash = self.hasher.hash(password)
                row.role = role
                return
        self.add_user(username, password, role)

    def users(self) -> list[tuple[str, str]]:
        with self.store.session() as session:
            rows = session.execute(select(UserRow.username, UserRow.role).order_by("username"))
            return [(name, role) for name, role in rows]

    def verify(self, username: str, password: str) -> bool:
        """True for the right password; unknown users cost the same time as known ones."""
        with self.store.session() as session:
            row = session.get(UserRow, username)
            stored = row.password_hash if row is not None else self._decoy_hash
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
        return row is not None

    def open_session(self, username: str) -> str:
        """A new session for `username`; returns the cookie token."""
        token = secrets.token_urlsafe(32)
        with self.store.session() as session:
            session.execute(delete(SessionRow).where(SessionRow.expires_at < _now()))
            session.add(
                SessionRow(
                    token_hash=_token_hash(token),
                    username=username,
                    csrf_token=secrets.token_urlsafe(32),
                    expires_at=_now() + self.session_length,
                )
            )
        return token

    def session_user(self, token: str | None) -> SessionUser | None:
        if not token:
            return None
        with self.store.session() as session:
            row = session.get(SessionRow, _token_hash(token))
            if row is None or _aware(row.expires_at) < _now():
                return None
            user = session.get(UserRow, row.username)
            if user is None:
                return None
            prefs = session.get(UserSettingsRow, user.username)
            language = _language(prefs.language) if prefs is not None else DEFAULT_LANGUAGE
            return SessionUser(user.username, Role(user.role), row.csrf_token, language)

    def set_language(self, username: str, language: Language) -> None:
        with self.store.session() as session:
            prefs = session.get(UserSettingsRow, username)
            if prefs is None:
                session.add(UserSettingsRow(username=username, language=language.value))
            else:
                prefs.language = language.value

    def close_session(self, token: str | None) -> None:
        if token:
            with self.store.session() as session:
                session.execute(
                    delete(SessionRow).where(SessionRow.token_hash == _token_hash(token))
                )


def _language(value: str) -> Language:
    try:
        return Language(value)
    except ValueError:
        return DEFAULT_LANGUAGE


class LoginLimiter:
    """At most `attempts` failed logins per (address, user name) within `window` seconds."""

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] < time.monotonic() - self.window:
            failures.popleft()
        return failures

    def blocked_for(self, address: str, username: str) -> float:
        """Seconds until another try is allowed; 0 when it is allowed now."""
        with self._lock:
            failures = self._recent((address, username))
            if len(failures) < self.attempts:
                return 0.0
            return max(1.0, failures[0] + self.window - time.monotonic())

    def failed(self, address: str, username: str) -> None:
        with self._lock:
            self._recent((address, username)).append(time.monotonic())

    def succeeded(self, address: str, username: str) -> None:
        with self._lock:
            self._failures.pop((address, username), None)
