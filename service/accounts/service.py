"""Agencies, users and bearer tokens."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, delete, false, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from service.accounts import callers, passwords
from service.accounts.models import AGENCY_KINDS, ROLES, Agency, ApiToken, SignInPlace, User
from service.accounts.scope import Scope
from service.audit.service import record
from service.db import Page, bound, check_version, equals, fetch, in_bound_regions, one_region, paginate, utcnow
from service.errors import Conflict, Invalid, Unauthenticated
from service.extensions import db
from service.i18n import LANGUAGES, _l
from service.program.models import PROGRAM_ID, Program, Region
from service.program.regions import EVERYWHERE
from service.program.service import SEEN_REGION, SEEN_STAMP
from service.text import e164


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_agency(name: str, code: str, kind: str) -> Agency:
    if kind not in AGENCY_KINDS:
        raise Invalid({"kind": [_l("must be one of %(value)s", value=', '.join(AGENCY_KINDS))]})
    existing = db.session.scalar(select(Agency.id).where(Agency.code == code))
    if existing is not None:
        raise Conflict(_l("agency code %(code)s is taken", code=repr(code)), existing_id=existing)
    agency = Agency(name=name, code=code, kind=kind)
    db.session.add(agency)
    db.session.flush()
    return agency


def list_agencies(page: int, per_page: int, kind: str | None = None) -> Page[Agency]:
    query = select(Agency).order_by(Agency.name, Agency.id)
    if kind:
        query = query.where(equals(Agency.kind, kind))
    return paginate(db.session, query, page, per_page)


def _bound_to_existing(column, value: int, region: str | None) -> bool:
    """Whether the row a user is bound to exists in the user's region (``region``; None: one the
    session reaches): found through the column's foreign key, in a table of an area above
    accounts (a stall's), which accounts does not import. Another region's stall is not there,
    as for any other id of another region (and on Citus the lookup stays on one shard)."""
    [key] = column.property.columns[0].foreign_keys
    table = key.column.table
    where = [key.column == value]
    if "region_code" in table.c:
        where.append(table.c.region_code == region if region else in_bound_regions(db.session, table.c.region_code))
    return db.session.scalar(select(key.column).where(*where)) is not None


def create_user(
    email: str | None, password: str, name: str, role: str, agency_id: int | None = None,
    vendor_id: int | None = None, volunteer_id: int | None = None, phone: str | None = None,
    region_code: str | None = None, regions: list[str] | None = None,
) -> User:
    """A user who signs in with ``email`` or ``phone`` (as people write it; kept in E.164): a
    warung owner or a volunteer without email signs in with the phone. The user works in the
    session's region (``region_code`` names another), or, as provincial or national staff (a
    coordinator or agency staff), reads and coordinates ``regions`` (codes, or ``["*"]``)."""
    email = email.strip().lower() if email else None
    errors: dict[str, list[str]] = {}
    if phone is not None:
        try:
            phone = e164(phone)
        except ValueError as exc:
            errors["phone"] = [exc.args[0]]
            phone = None
    if role not in ROLES:
        errors["role"] = [_l("must be one of %(value)s", value=', '.join(ROLES))]
    if email is None and phone is None and "phone" not in errors:
        errors["email"] = [_l("send email or phone (one of them)")]
    if found := passwords.problems(password, email or "", phone):
        errors["password"] = found
    bindings = {"agency": ("agency_id", agency_id), "vendor": ("vendor_id", vendor_id),
                "volunteer": ("volunteer_id", volunteer_id)}
    for bound_role, (field, value) in bindings.items():
        if role == bound_role and value is None:
            errors[field] = [_l("a %(role)s user needs %(field)s", role=role, field=field)]
        elif role != bound_role and value is not None:
            errors[field] = [_l("only a %(bound_role)s user has %(field)s", bound_role=bound_role, field=field)]
    if role == "agency" and agency_id is not None and db.session.get(Agency, agency_id) is None:
        errors["agency_id"] = [_l("agency %(agency_id)s does not exist", agency_id=agency_id)]
    if role == "vendor" and vendor_id is not None and not _bound_to_existing(
            User.vendor_id, vendor_id, region_code or one_region(db.session)):
        errors["vendor_id"] = [_l("vendor %(vendor_id)s does not exist", vendor_id=vendor_id)]
    if regions is not None:
        known = set(db.session.scalars(select(Region.code)))
        if region_code is not None or not regions or role not in ("coordinator", "agency"):
            errors["regions"] = [_l("provincial or national staff (a coordinator, an agency) have regions, "
                                    "and no region of their own")]
        elif unknown := sorted(set(regions) - known - {EVERYWHERE}):
            errors["regions"] = [_l("no such region: %(codes)s", codes=", ".join(unknown))]
    elif region_code is not None and db.session.get(Region, region_code) is None:
        errors["region"] = [_l("no such region: %(codes)s", codes=region_code)]
    if errors:
        raise Invalid(errors)
    for column, value, words in ((User.email, email, _l("a user with email %(email)s exists", email=email)),
                                 (User.phone, phone, _l("a user with this phone exists"))):
        if value is None:
            continue
        # Logins are the program's, whatever the region: another region's user is named by no id.
        existing = db.session.execute(select(User.id, User.region_code).where(column == value)
                                      .execution_options(every_region=True)).first()
        if existing is not None:
            reach = bound(db.session)
            here = reach is None or existing.region_code in reach
            raise Conflict(words, **({"existing_id": existing.id} if here else {}))
    user = User(
        email=email, phone=phone, name=name, role=role, agency_id=agency_id, vendor_id=vendor_id,
        volunteer_id=volunteer_id, password_hash=passwords.hashed(password), region_code=region_code,
        regions=list(regions) if regions is not None else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def list_users(page: int, per_page: int, role: str | None = None, agency_id: int | None = None) -> Page[User]:
    query = select(User).order_by(User.id)
    if role:
        query = query.where(equals(User.role, role))
    if agency_id is not None:
        query = query.where(User.agency_id == agency_id)
    return paginate(db.session, query, page, per_page)


def issue_token(login: str, password: str, address: str | None = None) -> tuple[str, ApiToken]:
    """A new bearer token for valid credentials: an email, or a phone as people write it (a
    volunteer's). The plain token is returned once, never stored. The client's ``address`` is
    remembered (hashed) as a place the account signs in from (``signs_in_from``)."""
    # A login is the program's, whatever the user's region (or none: provincial staff).
    user = db.session.scalar(select(User).where(_login_is(login)).execution_options(every_region=True))
    # An unknown login costs a password check too: the answer's time does not tell who has an account.
    if not passwords.matches(user.password_hash if user else None, password) or not user.active:
        raise Unauthenticated(_l("wrong email, phone or password"))
    Scope(role=user.role, user_id=user.id, label=user.login, region_code=user.region_code,  # the user's own act
          regions=tuple(user.regions) if user.regions else None).act_in(db.session)
    if address:
        _remember_place(user.id, _place(address))
    token = secrets.token_urlsafe(32)
    ttl = dt.timedelta(hours=current_app.config["TOKEN_TTL_HOURS"])
    api_token = ApiToken(token_hash=hash_token(token), user=user, expires_at=utcnow() + ttl)
    db.session.add(api_token)
    db.session.flush()
    return token, api_token


def _place(address: str) -> str:
    """An address as kept: its HMAC under the secret key, so that the table holds no address."""
    return hmac.new(current_app.config["SECRET_KEY"].encode(), address.encode(), hashlib.sha256).hexdigest()


def _remember_place(user_id: int, place: str) -> None:
    dialect = db.session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SignInPlace).values(
        user_id=user_id, place=place, last_at=utcnow())
    db.session.execute(statement.on_conflict_do_update(index_elements=["user_id", "place"],
                                                       set_={"last_at": statement.excluded.last_at}))


def signs_in_from(login: str, address: str) -> bool:
    """Whether the account ``login`` names signed in from ``address`` within ``SIGN_IN_PLACE_DAYS``."""
    since = utcnow() - dt.timedelta(days=current_app.config["SIGN_IN_PLACE_DAYS"])
    return db.session.scalar(select(SignInPlace.user_id).join(User, User.id == SignInPlace.user_id).where(
        _login_is(login), SignInPlace.place == _place(address), SignInPlace.last_at >= since).limit(1)
        .execution_options(every_region=True)) is not None


def forget_places(user_id: int) -> None:
    """An account closed: where it signed in from goes too."""
    db.session.execute(delete(SignInPlace).where(SignInPlace.user_id == user_id))


# The caller and, in the same round trip, the stamp of the program's settings row: nearly every
# request reads the settings (the timezone decides what "today" is), and with the stamp it reads
# this process's copy (``program.settings()``) rather than loading the row. Columns, not entities:
# the ORM's loading cost more than the query.
_CALLER = (
    select(ApiToken.id.label("token_id"), User.id.label("user_id"),
           func.coalesce(User.email, User.phone).label("label"), User.role,
           User.agency_id, Agency.kind.label("agency_kind"), User.vendor_id, User.volunteer_id,
           User.language, User.region_code, User.regions, ApiToken.expires_at, ApiToken.revoked_at, User.active,
           Program.version.label("program_version"), Program.updated_at.label("program_updated_at"),
           Region.version.label("region_version"), Region.created_at.label("region_created_at"))
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(Agency, Agency.id == User.agency_id)
    .outerjoin(Region, Region.code == User.region_code)
    .outerjoin(Program, Program.id == PROGRAM_ID)
    # Built once with a placeholder: building and hashing a statement per request costs more
    # than running it.
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True)
class Found:
    """What authentication found for a live token, as ``callers`` remembers it."""

    caller: Scope
    expires_at: dt.datetime
    program_stamp: tuple[int, dt.datetime]
    region_stamp: tuple[str, int, dt.datetime] | None = None  # the caller's region, its row's version and birth


def normal_login(login: str) -> str | None:
    """A login as it is stored: an email in lower case, a phone as E.164; None for neither."""
    login = login.strip()
    if "@" in login:
        return login.lower()
    try:
        return e164(login)
    except ValueError:
        return None


def _login_is(login: str):
    """SQL: the user whose email or phone is ``login``, however the phone was written."""
    stored = normal_login(login)
    if stored is None:
        return false()  # no such user: the password is still checked, for the time it takes
    return User.email == stored if "@" in stored else User.phone == stored


def authenticate(token: str) -> Scope:
    """The caller behind a bearer string; expired, revoked or unknown tokens are refused.
    The stamp of the program's settings is noted in the session on the way.

    What the query finds for a live token is remembered by this process (``callers``) until
    anything it depends on changes."""
    token_hash = hash_token(token)
    remembered = callers.cache()
    found = remembered.get(token_hash)
    if found is None:
        generation = remembered.generation
        found = _look_up(token_hash)
        remembered.put(token_hash, found, generation)
    if found.expires_at <= utcnow():
        raise Unauthenticated(_l("the token has expired"))
    db.session.info[SEEN_STAMP] = found.program_stamp
    db.session.info[SEEN_REGION] = found.region_stamp
    return found.caller


def _look_up(token_hash: str) -> Found:
    row = db.session.connection().execute(_CALLER, {"token_hash": token_hash}).first()
    if row is None or row.revoked_at is not None or not row.active:
        raise Unauthenticated(_l("the token is unknown or revoked"))
    fields = row._asdict()
    fields["regions"] = tuple(fields["regions"]) if fields["regions"] else None
    return Found(Scope(**{name: fields[name] for name in Scope.__dataclass_fields__}), row.expires_at,
                 (row.program_version, row.program_updated_at),
                 (row.region_code, row.region_version, row.region_created_at) if row.region_code else None)


def get_user(user_id: int) -> User:
    return fetch(db.session, User, user_id)


def set_language(user_id: int, language: str | None) -> User:
    """The language of a user's messages and pages (``LANGUAGES``); None: the browser's."""
    if language is not None and language not in LANGUAGES:
        raise Invalid({"language": [_l("must be one of %(value)s", value=', '.join(LANGUAGES))]})
    user = fetch(db.session, User, user_id)
    user.language = language
    db.session.flush()
    return user


def revoke_token(token_id: int) -> None:
    fetch(db.session, ApiToken, token_id).revoked_at = utcnow()
    db.session.flush()


def revoke_user_tokens(user_id: int, keep: int | None = None) -> int:
    """Revoke every live token of a user (a lost phone, a person who left), but ``keep``; how many."""
    fetch(db.session, User, user_id)
    query = update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    if keep is not None:
        query = query.where(ApiToken.id != keep)
    result = db.session.execute(query.values(revoked_at=utcnow()))
    record(db.session, [("revoke", "user", user_id, {"tokens_revoked": [None, result.rowcount]})])
    return result.rowcount


def change_password(old_password: str, new_password: str, *, scope: Scope) -> int:
    """The caller's own new password, given the current one; every other token of theirs is
    revoked (a phone that was lost, a session on a shared computer): how many."""
    user = fetch(db.session, User, scope.user_id)
    errors: dict[str, list[str]] = {}
    if not passwords.matches(user.password_hash, old_password):
        errors["old_password"] = [_l("is not your current password")]
    elif old_password == new_password:
        errors["new_password"] = [_l("is your current password: choose a new one")]
    elif found := passwords.problems(new_password, user.email or "", user.phone):
        errors["new_password"] = found
    if errors:
        raise Invalid(errors)
    user.password_hash = passwords.hashed(new_password)
    db.session.flush()
    return revoke_user_tokens(user.id, keep=scope.token_id)


USER_EDITABLE = frozenset({"active", "name", "agency_id"})


def update_user(user_id: int, changes: dict[str, Any], expected_version: int | None = None, *,
                scope: Scope) -> User:
    """The coordinator's changes to a user: a name, another agency for agency staff, or ``active``.
    Deactivating (someone who left) revokes every token, so reactivating brings none back; nobody
    deactivates themselves."""
    user = fetch(db.session, User, user_id)
    check_version(user, expected_version)
    errors: dict[str, list[str]] = {}
    if "agency_id" in changes:
        if user.role != "agency":
            errors["agency_id"] = [_l("only agency staff belong to an agency, not a %(role)s user", role=user.role)]
        elif db.session.get(Agency, changes["agency_id"]) is None:
            errors["agency_id"] = [_l("agency %(agency_id)s does not exist", agency_id=changes['agency_id'])]
    if errors:
        raise Invalid(errors)
    if changes.get("active") is False and user.id == scope.user_id:
        raise Conflict(_l("you cannot deactivate yourself: ask another coordinator"))
    leaving = user.active and changes.get("active") is False
    for key, value in changes.items():
        setattr(user, key, value.strip() if key == "name" else value)
    db.session.flush()
    if leaving:
        revoke_user_tokens(user.id)
    return user
