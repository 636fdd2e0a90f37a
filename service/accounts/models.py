from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, JSONType, Regional, utcnow

AGENCY_KINDS = ("social", "data", "health", "education", "other")
ROLES = ("coordinator", "agency", "vendor", "volunteer")
# Agencies whose work is the registry itself (finding, verifying, digitising the elderly): they, and
# the coordinator, read recipients' personal data (NIK, address, phone, coordinates, notes).
REGISTRY_KINDS = frozenset({"social", "data"})


def reads_registry(role: str, agency_kind: str | None) -> bool:
    """Whether a caller's work needs the recipients' personal data: the coordinator and the
    registry agencies. Everyone else sees a recipient only where their own work needs it."""
    return role == "coordinator" or (role == "agency" and agency_kind in REGISTRY_KINDS)


def principal_of(role: str, agency_kind: str | None) -> str:
    """What the permission table speaks of: the role, and for agency staff the agency's kind."""
    return f"agency:{agency_kind}" if role == "agency" and agency_kind else role


class Agency(Regional, Base):
    __tablename__ = "agencies"
    __table_args__ = (UniqueConstraint("region_code", "code", name="uq_agencies_region_code_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))


class User(Regional, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # How the user signs in: an email, or (volunteers without one) a phone in E.164.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    # The food stall or volunteer this user acts for.
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"), index=True)
    volunteer_id: Mapped[int | None] = mapped_column(index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # The language of the user's messages and pages (service/i18n.LANGUAGES); None: the browser's.
    language: Mapped[str | None] = mapped_column(String(8))
    # The region the user works in; null for provincial or national staff, who read and coordinate
    # ``regions`` (codes, or ["*"]: every region).
    region_code: Mapped[str | None] = mapped_column(String(8), ForeignKey("regions.code"))
    regions: Mapped[list[str] | None] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    @property
    def login(self) -> str:
        """How the audit trail and the CLI name the user: the email, else the phone."""
        return self.email or self.phone or f"user {self.id}"

    @property
    def principal(self) -> str:
        return principal_of(self.role, self.agency.kind if self.agency else None)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class SignInPlace(Base):
    """An address an account signed in from, lately (its HMAC, never the address): refused
    sign-ins counted against the account from anywhere do not lock it out where it signs in
    every day (``RATELIMIT_AUTH_ACCOUNT_ANYWHERE``; OWASP's advice against lockout by strangers)."""

    __tablename__ = "sign_in_places"
    __audited__ = False  # a sign-in's by-product, kept at most SIGN_IN_PLACE_DAYS

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    place: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
