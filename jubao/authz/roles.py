"""The role catalogue: what each role may do, and at which levels it may be granted.

Processing (经办) and reviewing (审核) the same object are never in one role; the catalogue
tests check that, and that every right to act on an object comes with the right to read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from jubao.authz.vocabulary import Act, Obj
from jubao.errors import Text
from jubao.tenants.codes import Level

Permission = tuple[Obj, Act]

BUSINESS = (
    Obj.PERSON,
    Obj.ENROLLMENT,
    Obj.CONTRIBUTION,
    Obj.ACCOUNT,
    Obj.BENEFIT,
    Obj.PAYROLL,
    Obj.VERIFICATION,
    Obj.TERMINATION,
    Obj.TRANSFER,
)
# What township staff handle; accounts, payroll and transfers are county work.
TOWNSHIP_WORK = (
    Obj.PERSON,
    Obj.ENROLLMENT,
    Obj.CONTRIBUTION,
    Obj.BENEFIT,
    Obj.VERIFICATION,
    Obj.TERMINATION,
)
# The village takes the pension claim its people sign (领取待遇通知表), as it takes enrolments.
VILLAGE_WORK = (Obj.PERSON, Obj.ENROLLMENT, Obj.BENEFIT, Obj.VERIFICATION, Obj.TERMINATION)


def _grant(act: Act, *objects: Obj) -> frozenset[Permission]:
    return frozenset((obj, act) for obj in objects)


class RoleName(StrEnum):
    """The catalogue's roles by name (the name a grant stores)."""

    PROVINCE_ADMIN = "province_admin"
    CITY_SUPERVISOR = "city_supervisor"
    AGENCY_PROCESSOR = "agency_processor"
    AGENCY_REVIEWER = "agency_reviewer"
    TOWNSHIP_PROCESSOR = "township_processor"
    TOWNSHIP_REVIEWER = "township_reviewer"
    VILLAGE_ASSISTANT = "village_assistant"
    FINANCE_OFFICER = "finance_officer"
    AUDITOR = "auditor"
    PERMISSION_ADMIN = "permission_admin"


@dataclass(frozen=True)
class Role:
    name: RoleName
    zh: str
    en: str
    min_level: Level  # the highest level (smallest number) it may be granted at
    max_level: Level  # the lowest level it may be granted at
    permissions: frozenset[Permission]

    @property
    def text(self) -> Text:
        return Text(self.zh, self.en)

    def fits(self, level: Level) -> bool:
        return self.min_level <= level <= self.max_level

    def objects_with(self, act: Act) -> frozenset[Obj]:
        return frozenset(obj for obj, a in self.permissions if a is act)


_COMMON_READ = (Obj.REGION, Obj.USER)
_COUNTY_READ = _grant(Act.READ, *_COMMON_READ, *BUSINESS, Obj.POLICY, Obj.REPORT)
# Unmasked ID numbers, phones and bank accounts: for the staff who serve people in person.
_PII = _grant(Act.READ, Obj.PII)
# (payroll: a failed or held payment goes back to the township to correct the bank account)
_TOWNSHIP_READ = _grant(
    Act.READ, *_COMMON_READ, *TOWNSHIP_WORK, Obj.ACCOUNT, Obj.PAYROLL, Obj.TRANSFER
)

ROLES: tuple[Role, ...] = (
    Role(
        RoleName.PROVINCE_ADMIN,
        "省级管理员",
        "Province administrator",
        Level.PROVINCE,
        Level.PROVINCE,
        _grant(Act.READ, *(o for o in Obj if o is not Obj.PII))
        | _grant(Act.ADMIN, Obj.REGION, Obj.USER, Obj.GRANT),
    ),
    Role(
        RoleName.CITY_SUPERVISOR,
        "市级监管员",
        "City supervisor",
        Level.CITY,
        Level.CITY,
        _COUNTY_READ,
    ),
    # The social-insurance agency (经办机构) sits at county level, and at city and province
    # level for the work done there (policy, province-wide interest).
    Role(
        RoleName.AGENCY_PROCESSOR,
        "经办机构经办员",
        "Agency processor",
        Level.PROVINCE,
        Level.COUNTY,
        # (not payroll: releasing a run to the bank is the finance officer's)
        _COUNTY_READ
        | _PII
        | _grant(Act.PROCESS, *(o for o in BUSINESS if o is not Obj.PAYROLL), Obj.POLICY),
    ),
    Role(
        RoleName.AGENCY_REVIEWER,
        "经办机构审核员",
        "Agency reviewer",
        Level.PROVINCE,
        Level.COUNTY,
        _COUNTY_READ | _PII | _grant(Act.REVIEW, *BUSINESS, Obj.POLICY),
    ),
    Role(
        RoleName.TOWNSHIP_PROCESSOR,
        "乡镇经办员",
        "Township processor",
        Level.TOWNSHIP,
        Level.TOWNSHIP,
        _TOWNSHIP_READ | _PII | _grant(Act.PROCESS, *TOWNSHIP_WORK),
    ),
    Role(
        RoleName.TOWNSHIP_REVIEWER,
        "乡镇初审员",
        "Township first reviewer",
        Level.TOWNSHIP,
        Level.TOWNSHIP,
        _TOWNSHIP_READ | _PII | _grant(Act.REVIEW, *TOWNSHIP_WORK),
    ),
    Role(
        RoleName.VILLAGE_ASSISTANT,
        "村协办员",
        "Village assistant",
        Level.VILLAGE,
        Level.VILLAGE,
        _grant(
            Act.READ,
            *_COMMON_READ,
            *VILLAGE_WORK,
            Obj.CONTRIBUTION,
            Obj.ACCOUNT,
            Obj.BENEFIT,
            Obj.PAYROLL,  # whether the village's pensioners were paid
        )
        | _PII
        | _grant(Act.PROCESS, *VILLAGE_WORK),
    ),
    Role(
        RoleName.FINANCE_OFFICER,
        "财务人员",
        "Finance officer",
        Level.PROVINCE,
        Level.COUNTY,
        _grant(
            Act.READ,
            *_COMMON_READ,
            Obj.PERSON,
            Obj.CONTRIBUTION,
            Obj.ACCOUNT,
            Obj.BENEFIT,
            Obj.PAYROLL,
            Obj.REPORT,
            Obj.PII,  # bank accounts, for payments
        )
        | _grant(Act.PROCESS, Obj.ACCOUNT, Obj.PAYROLL),
    ),
    Role(
        RoleName.AUDITOR,
        "稽核员",
        "Auditor",
        Level.PROVINCE,
        Level.COUNTY,
        _grant(Act.READ, *Obj),
    ),
    Role(
        RoleName.PERMISSION_ADMIN,
        "权限管理员",
        "Permission administrator",
        Level.PROVINCE,
        Level.TOWNSHIP,
        _grant(Act.READ, *_COMMON_READ, Obj.GRANT) | _grant(Act.ADMIN, Obj.USER, Obj.GRANT),
    ),
)

CATALOGUE: dict[str, Role] = {role.name: role for role in ROLES}
