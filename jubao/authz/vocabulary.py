"""The objects (business areas) and actions that permissions are made of."""

from __future__ import annotations

from enum import StrEnum

from jubao.errors import Text


class Obj(StrEnum):
    REGION = "region"
    PERSON = "person"
    ENROLLMENT = "enrollment"
    CONTRIBUTION = "contribution"
    ACCOUNT = "account"
    BENEFIT = "benefit"
    PAYROLL = "payroll"
    VERIFICATION = "verification"
    TERMINATION = "termination"
    TRANSFER = "transfer"
    POLICY = "policy"
    REPORT = "report"
    AUDIT = "audit"
    USER = "user"
    GRANT = "grant"
    PII = "pii"  # unmasked personal data: ID numbers, phones, bank accounts

    @property
    def zh(self) -> str:
        return _OBJ_ZH[self]

    @property
    def text(self) -> Text:
        return Text(self.zh, self.value)


_OBJ_ZH = {
    Obj.REGION: "行政区划",
    Obj.PERSON: "参保人",
    Obj.ENROLLMENT: "参保登记",
    Obj.CONTRIBUTION: "缴费",
    Obj.ACCOUNT: "个人账户",
    Obj.BENEFIT: "待遇",
    Obj.PAYROLL: "待遇发放",
    Obj.VERIFICATION: "资格认证",
    Obj.TERMINATION: "注销",
    Obj.TRANSFER: "转移接续",
    Obj.POLICY: "政策参数",
    Obj.REPORT: "统计报表",
    Obj.AUDIT: "审计日志",
    Obj.USER: "操作员",
    Obj.GRANT: "授权",
    Obj.PII: "个人敏感信息",
}


class Act(StrEnum):
    READ = "read"
    PROCESS = "process"  # 经办: enter and submit
    REVIEW = "review"  # 审核: approve or reject
    ADMIN = "admin"  # manage operators and grants

    @property
    def zh(self) -> str:
        return {"read": "查询", "process": "经办", "review": "审核", "admin": "管理"}[self.value]

    @property
    def text(self) -> Text:
        return Text(self.zh, self.value)
