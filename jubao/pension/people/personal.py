"""Personal data (个人敏感信息): who may see it unmasked, what the mask shows, and the record
of every unmasked value served.

One rule for every way out — the API, file downloads, the command line and every export: a
value is shown as it is only to an actor holding the personal-data right (``pii``) over the
region its owner lives in, and each value so shown is recorded in the audit trail, under that
region (so that its auditors see it), naming whose data and which fields. Everyone else sees
the mask, and nothing is recorded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from jubao import audit
from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Act, Obj
from jubao.pension.people.idnumber import mask_id_number
from jubao.tenants.codes import RegionCode

T = TypeVar("T")


def mask_phone(phone: str) -> str:
    return phone[:3] + "*" * max(0, len(phone) - 7) + phone[-4:]


def mask_bank_account(account: str) -> str:
    return "*" * max(0, len(account) - 4) + account[-4:]


def mask_birth_date(_: object) -> None:
    """Nothing: the masked ID number hides exactly the birth date, so its month and day must
    not be readable beside it (the birth year is shown elsewhere, as the age it gives is
    needed)."""


MASKS: dict[str, Callable[[object], object]] = {
    "id_number": lambda value: mask_id_number(str(value)),
    "phone": lambda value: mask_phone(str(value)),
    "bank_account": lambda value: mask_bank_account(str(value)),
    "birth_date": mask_birth_date,
}


def may_see(actor: Actor, region: RegionCode) -> bool:
    return actor.can(Obj.PII, Act.READ, region)


@dataclass(frozen=True)
class Read:
    """One unmasked value served: where its owner lives, whose it is, which field."""

    region_code: str
    subject: str  # "person:12", "application:5"
    field: str


@dataclass
class Disclosure:
    """The personal data shown to one actor in one piece of work (a request, a download, a
    command): `show` decides value or mask, `record` writes what was shown to the audit
    trail — before the data leaves, so that nothing is served unrecorded."""

    actor: Actor
    # a set: a file of a million lines about one run holds a few reads per village
    reads: set[Read] = field(default_factory=set)

    def visible(self, region: RegionCode) -> bool:
        return may_see(self.actor, region)

    def show(self, region: RegionCode, subject: str, kind: str, value: T | None) -> T | object:
        if value is None:
            return None
        if not may_see(self.actor, region):
            return MASKS[kind](value)
        self.reads.add(Read(region.code, subject, kind))
        return value

    def record_shown(self, region: RegionCode, subject: str, *kinds: str) -> None:
        """Values shown in full in bulk (a bank file), after the caller required the right
        to read them there: one read per field, to be recorded like any other."""
        if not may_see(self.actor, region):
            raise RuntimeError("record_shown without the right to see")
        for kind in kinds:
            self.reads.add(Read(region.code, subject, kind))

    def show_date(self, region: RegionCode, subject: str, value: date | None) -> date | None:
        shown = self.show(region, subject, "birth_date", value)
        return shown if isinstance(shown, date) else None

    async def record(self, session: AsyncSession) -> None:
        """One audit event per region, naming the people and fields shown unmasked."""
        by_region: dict[str, list[Read]] = defaultdict(list)
        for read in self.reads:
            by_region[read.region_code].append(read)
        await audit.record_many(
            session,
            self.actor,
            "person.personal_data_read",
            "personal data",
            (
                (
                    region_code,
                    {
                        "subjects": sorted({r.subject for r in found}),
                        "fields": sorted({r.field for r in found}),
                    },
                )
                for region_code, found in sorted(by_region.items())
            ),
        )
        self.reads.clear()
