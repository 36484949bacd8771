"""个人账户对账单 as a file (CSV or Excel), for printing or handing to the person."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.errors import Lang
from jubao.pension.accounts.ledger import Component, EntryKind, Statement, statement
from jubao.pension.exports import Cell, Format, Yuan, render
from jubao.pension.people.personal import Disclosure
from jubao.pension.people.persons import Person

_KIND = {
    EntryKind.CONTRIBUTION: ("缴费入账", "contribution"),
    EntryKind.INTEREST: ("利息", "interest"),
    EntryKind.REVERSAL: ("冲正", "reversal"),
    EntryKind.PENSION: ("个人账户养老金支付", "account pension paid"),
}


def statement_rows(
    statement: Statement, *, name: str, id_number: str, lang: Lang = Lang.ZH
) -> list[list[Cell]]:
    zh = lang is Lang.ZH
    components = list(Component)
    rows: list[list[Cell]] = [
        ["个人账户对账单" if zh else "Individual account statement", statement.year],
        ["姓名" if zh else "Name", name, "身份证号码" if zh else "ID number", id_number],
        [],
        [
            "日期" if zh else "Date",
            "所属年度" if zh else "Year",
            "项目" if zh else "Component",
            "类型" if zh else "Kind",
            "金额（元）" if zh else "Amount (yuan)",
        ],
    ]
    for line in statement.lines:
        kind_zh, kind_en = _KIND[line.kind]
        rows.append(
            [
                line.value_date,
                line.year,
                line.component.text(lang),
                kind_zh if zh else kind_en,
                Yuan(line.amount),
            ]
        )
    rows.append([])
    rows.append(
        [
            "项目" if zh else "Component",
            "期初余额" if zh else "Opening",
            "期末余额" if zh else "Closing",
        ]
    )
    for component in components:
        opening, closing = statement.opening[component], statement.closing[component]
        if opening or closing:
            rows.append([component.text(lang), Yuan(opening), Yuan(closing)])
    rows.append(
        [
            "合计" if zh else "Total",
            Yuan(statement.opening_total),
            Yuan(statement.closing_total),
        ]
    )
    return rows


async def statement_file(
    session: AsyncSession, actor: Actor, person: Person, year: int, fmt: Format, lang: Lang
) -> bytes:
    """A person's statement as a file, the ID number shown by the personal-data rule (and its
    showing recorded in ``session``'s transaction)."""
    disclosure = Disclosure(actor)
    shown = disclosure.show(person.region, f"person:{person.id}", "id_number", person.id_number)
    rows = statement_rows(
        await statement(session, person.id, year), name=person.name, id_number=str(shown), lang=lang
    )
    await disclosure.record(session)
    return render(rows, fmt)
