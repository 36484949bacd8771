"""注销登记表 as a file (CSV or Excel), to print, sign and file in the person's archive."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.errors import Lang, Text
from jubao.pension.accounts.ledger import Component
from jubao.pension.exports import Cell, Format, Yuan, render
from jubao.pension.people.personal import Disclosure
from jubao.pension.people.persons import Person
from jubao.pension.termination.payouts import Payout
from jubao.pension.termination.reasons import RefundScope, TerminationReason
from jubao.pension.termination.termination import Termination


async def termination_file(
    session: AsyncSession,
    actor: Actor,
    person: Person,
    ended: Termination,
    fmt: Format,
    lang: Lang,
) -> bytes:
    zh = lang is Lang.ZH
    disclosure = Disclosure(actor)
    subject = f"person:{person.id}"
    shown = disclosure.show(person.region, subject, "id_number", person.id_number)
    rows: list[list[Cell]] = [
        ["城乡居民基本养老保险注销登记表" if zh else "Termination of insurance"],
        ["姓名" if zh else "Name", person.name, "公民身份号码" if zh else "ID number", str(shown)],
        ["参保村（社区）" if zh else "Village", person.region_code],
        [
            "注销原因" if zh else "Reason",
            " ".join(
                filter(None, (TerminationReason(ended.reason).text(lang), ended.local_reason))
            ),
            "死亡日期" if zh else "Date of death",
            ended.died_on.isoformat() if ended.died_on else "",
        ],
        ["证明材料" if zh else "Proof", ended.proof],
        ["支付范围" if zh else "Paid out", RefundScope(ended.scope).text(lang)],
        [],
        ["个人账户储存额" if zh else "Account when closed", "", "金额（元）" if zh else "Yuan"],
    ]
    for component, balance in sorted(ended.balances.items()):
        rows.append([Component(component).text(lang), "", Yuan(balance)])
    rows += [
        [],
        ["个人账户余额支付" if zh else "Refund", "", Yuan(ended.refund)],
        ["划回统筹基金" if zh else "Back to the pool", "", Yuan(ended.to_pool)],
        ["丧葬补助金" if zh else "Funeral grant", "", Yuan(ended.funeral)],
        ["应追回待遇" if zh else "Overpaid", "", Yuan(ended.overpaid)],
        ["从支付中扣回" if zh else "Recovered from the payout", "", Yuan(ended.recovered)],
        ["实际支付" if zh else "Paid out", "", Yuan(ended.payout)],
    ]
    payout = await session.scalar(select(Payout).where(Payout.person_id == person.id))
    if payout is not None:
        payee = disclosure.show(person.region, subject, "id_number", payout.payee_id_number)
        account = disclosure.show(person.region, subject, "bank_account", payout.bank_account)
        rows += [
            [],
            [
                "领款人" if zh else "Payee",
                payout.payee_name,
                Text("与参保人关系", "relation")(lang),
                payout.relation,
            ],
            ["公民身份号码" if zh else "ID number", str(payee)],
            ["银行账号" if zh else "Bank account", str(account)],
            ["继承权证明" if zh else "Proof of the right", payout.proof or ""],
        ]
    rows += [
        [],
        ["复核人" if zh else "Approved by", ended.terminated_by, str(ended.terminated_at.date())],
        ["领款人签字" if zh else "Payee's signature", ""],
    ]
    await disclosure.record(session)
    return render(rows, fmt)
