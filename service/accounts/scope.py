"""Who is calling, and so what they may reach: the one argument the service takes about its caller.

A handler passes the request's ``Scope`` (what authentication found); a job or a command passes
``Scope.system(...)``. Each area reads from it what it needs (the stall a vendor acts for, the agency
of agency staff, whether personal data is theirs to see) and filters rows in SQL with it
(``Model.visible_to(scope)``); another's object is "not found". The scope also names the actor:
whoever changes something, created_by, completed_by, confirmed_by and the audit trail (which the
edge opens the session with, ``act_in``) all come from it, and from nowhere else.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from service.accounts.models import principal_of, reads_registry
from service.audit.service import set_actor
from service.db import bind, default_region
from service.program.regions import EVERYWHERE


@dataclass(frozen=True)
class Scope:
    role: str  # coordinator | agency | vendor | volunteer | system (a job, a command)
    user_id: int | None = None
    label: str = "system"  # how the audit trail names the actor: an email, "scheduler", "cli"
    agency_id: int | None = None
    agency_kind: str | None = None
    vendor_id: int | None = None
    volunteer_id: int | None = None
    token_id: int | None = None
    language: str | None = None  # the user's chosen language (service/i18n.py), if any
    region_code: str | None = None  # the region the caller works in
    regions: tuple[str, ...] | None = None  # or those a provincial or national user coordinates ("*": all)

    @classmethod
    def system(cls, label: str, region: str | None = "default") -> Scope:
        """The program itself (the job runner, a command), acting as nobody: everything of one
        region (``region``; the default region unless said), or of every region (None)."""
        if region is None:
            return cls(role="system", label=label, regions=(EVERYWHERE,))
        return cls(role="system", label=label, region_code=default_region() if region == "default" else region)

    @property
    def reach(self) -> tuple[str, ...] | None:
        """The regions whose rows the caller reaches; None: every region. A user of one region
        reaches it alone; provincial and national staff their list; anyone else none."""
        if self.region_code is not None:
            return (self.region_code,)
        if self.regions and EVERYWHERE in self.regions:
            return None
        return tuple(self.regions or ())

    def narrowed(self, code: str) -> Scope | None:
        """This caller working in the region ``code`` alone (a provincial user's ``region``
        filter), or None when it is not theirs to reach."""
        reach = self.reach
        if reach is not None and code not in reach:
            return None
        return replace(self, region_code=code, regions=None)

    @property
    def principal(self) -> str:
        """What the permission table speaks of: the role, and for agency staff the agency's kind."""
        return principal_of(self.role, self.agency_kind)

    @property
    def everything(self) -> bool:
        """The program office and the program itself reach every row."""
        return self.role in ("coordinator", "system")

    @property
    def reads_registry(self) -> bool:
        """Whether the recipients' personal data is theirs to see (the registry's staff)."""
        return self.role == "system" or reads_registry(self.role, self.agency_kind)

    @property
    def agency(self) -> int | None:
        """The agency agency staff act for (they reach its work only); None for everyone else."""
        return self.agency_id if self.role == "agency" else None

    @property
    def stall(self) -> int | None:
        """The stall a stall's user acts for (it reaches itself only); None for everyone else."""
        return self.vendor_id if self.role == "vendor" else None

    @property
    def helper(self) -> int | None:
        """The volunteer a volunteer's user is (they reach their own claims and meals); None for
        everyone else."""
        return self.volunteer_id if self.role == "volunteer" else None

    def act_in(self, session: Session) -> None:
        """Name this caller as the actor of everything the session writes (the audit trail), and
        bind the session to the caller's regions (``service.db.bind``)."""
        set_actor(session, self.user_id, self.label)
        bind(session, self.reach)
