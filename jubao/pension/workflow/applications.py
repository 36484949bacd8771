"""业务申请: the maker-checker record of every change to rights or money.

An application has a kind, a region (where the person lives, or the region a policy or an
interest run covers), a payload, and the chain of review steps in force when it was submitted
(one administrative level per step). The final approval applies the effect in the same
transaction. Reviews are rows of their own, so the database itself guarantees that nobody
reviews what they submitted, nobody reviews one application twice, and each step is decided
exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from jubao.authz.vocabulary import Obj
from jubao.errors import ErrorCode
from jubao.errors import Text as Words
from jubao.orm import Base, BigId, utcnow
from jubao.tenants.scope import RegionScoped, Scope


class Kind(StrEnum):
    ENROLLMENT = "enrollment"  # 参保登记
    CHANGE = "change"  # 变更登记
    CONTRIBUTION = "contribution"  # 柜台缴费
    BACK_PAYMENT = "back_payment"  # 补缴
    HARDSHIP = "hardship"  # 代缴名单
    POLICY = "policy"  # 政策参数调整
    INTEREST = "interest"  # 年度结息
    SUSPENSION = "suspension"  # 暂停缴费、恢复缴费
    AWARD = "award"  # 待遇核定
    AWARD_CORRECTION = "award_correction"  # 待遇核定更正
    BENEFIT_HOLD = "benefit_hold"  # 待遇暂停
    BENEFIT_RESUMPTION = "benefit_resumption"  # 待遇恢复
    TERMINATION = "termination"  # 注销登记
    RECOVERY_REPAYMENT = "recovery_repayment"  # 追回款缴回

    @property
    def obj(self) -> Obj:
        return KIND_OBJECTS[self]

    @property
    def text(self) -> Words:
        return Words(_KIND_ZH[self], self.value.replace("_", " "))


KIND_OBJECTS = {
    Kind.ENROLLMENT: Obj.ENROLLMENT,
    Kind.CHANGE: Obj.PERSON,
    Kind.CONTRIBUTION: Obj.CONTRIBUTION,
    Kind.BACK_PAYMENT: Obj.CONTRIBUTION,
    Kind.HARDSHIP: Obj.CONTRIBUTION,
    Kind.POLICY: Obj.POLICY,
    Kind.INTEREST: Obj.ACCOUNT,
    Kind.SUSPENSION: Obj.PERSON,
    Kind.AWARD: Obj.BENEFIT,
    Kind.AWARD_CORRECTION: Obj.BENEFIT,
    Kind.BENEFIT_HOLD: Obj.BENEFIT,
    Kind.BENEFIT_RESUMPTION: Obj.BENEFIT,
    Kind.TERMINATION: Obj.TERMINATION,
    Kind.RECOVERY_REPAYMENT: Obj.BENEFIT,
}
_KIND_ZH = {
    Kind.ENROLLMENT: "参保登记",
    Kind.CHANGE: "变更登记",
    Kind.CONTRIBUTION: "柜台缴费",
    Kind.BACK_PAYMENT: "补缴",
    Kind.HARDSHIP: "代缴名单",
    Kind.POLICY: "政策参数调整",
    Kind.INTEREST: "年度结息",
    Kind.SUSPENSION: "暂停或恢复缴费",
    Kind.AWARD: "待遇核定",
    Kind.AWARD_CORRECTION: "待遇核定更正",
    Kind.BENEFIT_HOLD: "待遇暂停",
    Kind.BENEFIT_RESUMPTION: "待遇恢复",
    Kind.TERMINATION: "注销登记",
    Kind.RECOVERY_REPAYMENT: "追回款缴回",
}


class Status(StrEnum):
    IN_REVIEW = "in_review"  # submitted, waiting for the current step
    APPLIED = "applied"  # approved at the last step and carried out
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class ApplicationError(ErrorCode):
    NOT_FOUND = ("找不到该业务申请", "No such application")
    CLOSED = ("该申请已{status}，不能再处理", "The application is already {status}")
    OWN = ("不能审核自己提交的申请", "You cannot review an application you submitted")
    TWICE = ("您已审核过该申请的前一环节，不能再审核", "You already reviewed an earlier step")
    NOT_YOUR_STEP = (
        "当前环节（{level}级）须由 {region} 的{obj}审核人员办理",
        "The current step ({level} level) is for {obj} reviewers of {region}",
    )
    CONFLICT = (
        "该环节已由他人处理，请刷新后查看",
        "Someone else decided this step meanwhile; reload to see the result",
    )
    NOT_SUBMITTER = ("只有提交人可以撤回申请", "Only the submitter can withdraw an application")
    COMMENT = ("退回时必须填写意见", "A rejection needs a comment")
    CHAIN = (
        "{region} 的“{kind}”审核流程配置无效",
        "The review chain of '{kind}' for {region} is not usable",
    )
    SYSTEM_REVIEW = ("审核必须由操作员本人办理", "Reviews are made by operators, not the system")
    PENDING = (
        "已有同一事项的申请在审核中",
        "An application for the same matter is already waiting for review",
    )


_STATUS_TEXT = {
    Status.APPLIED: Words("办结", "applied"),
    Status.REJECTED: Words("退回", "rejected"),
    Status.WITHDRAWN: Words("撤回", "withdrawn"),
    Status.IN_REVIEW: Words("审核中", "in review"),
}


def status_text(status: Status) -> Words:
    return _STATUS_TEXT[status]


class Application(Base, RegionScoped):
    __tablename__ = "application"
    __table_args__ = (
        Index("ix_application_queue", "status", "current_prefix"),
        Index("ix_application_region_code", "region_code"),
        # One open application per kind and subject (e.g. one enrolment per ID number).
        Index(
            "uq_application_open_subject",
            "kind",
            "subject",
            unique=True,
            sqlite_where=text("status = 'in_review'"),
            postgresql_where=text("status = 'in_review'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(String(12))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    subject: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    # the review levels (1 province … 4 township), fixed at submission
    chain: Mapped[list[int]] = mapped_column(JSON)
    step: Mapped[int] = mapped_column(default=0)
    # the region prefix at the current step's level: whose reviewers it waits for
    current_prefix: Mapped[str | None] = mapped_column(String(12))
    submitted_by: Mapped[int] = mapped_column(index=True)
    submitted_by_name: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    close_comment: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's convention

    @classmethod
    def read_criteria(cls, scope_of: Callable[[str], Scope]) -> ColumnElement[bool]:
        """Applications are readable by those who may read their kind's object there."""
        by_object: dict[Obj, list[str]] = {}
        for kind, obj in KIND_OBJECTS.items():
            by_object.setdefault(obj, []).append(kind.value)
        return or_(
            *(
                and_(cls.kind.in_(kinds), scope_of(obj.value).clause(cls.region_code))
                for obj, kinds in by_object.items()
            )
        )

    @property
    def current_kind(self) -> Kind:
        return Kind(self.kind)


class ApplicationReview(Base):
    """One decision on one step. The constraints are the second wall behind the service."""

    __tablename__ = "application_review"
    __table_args__ = (
        UniqueConstraint("application_id", "step"),
        UniqueConstraint("application_id", "reviewer_id"),
        CheckConstraint("reviewer_id <> submitter_id", name="not_own"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"))
    step: Mapped[int]
    level: Mapped[int]
    reviewer_id: Mapped[int]
    reviewer_name: Mapped[str] = mapped_column(String(100))
    submitter_id: Mapped[int]
    decision: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
