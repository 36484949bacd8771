"""个人账户对账单 as a file (CSV or Excel), for printing or handing to the person."""

from __future__ import annotations

import csv
import io
from typing import Literal

from jubao.errors import Lang
from jubao.pension.ledger import Component, EntryKind, Statement
from jubao.pension.money import format_yuan

_KIND = {
    EntryKind.CONTRIBUTION: ("缴费入账", "contribution"),
    EntryKind.INTEREST: ("利息", "interest"),
    EntryKind.REVERSAL: ("冲正", "reversal"),
}


def statement_rows(
    statement: Statement, *, name: str, id_number: str, lang: Lang = Lang.ZH
) -> list[list[str]]:
    zh = lang is Lang.ZH
    components = list(Component)
    rows = [
        ["个人账户对账单" if zh else "Individual account statement", str(statement.year)],
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
                line.value_date.isoformat(),
                str(line.year),
                line.component.text(lang),
                kind_zh if zh else kind_en,
                format_yuan(line.amount),
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
            rows.append([component.text(lang), format_yuan(opening), format_yuan(closing)])
    rows.append(
        [
            "合计" if zh else "Total",
            format_yuan(statement.opening_total),
            format_yuan(statement.closing_total),
        ]
    )
    return rows


def render(rows: list[list[str]], fmt: Literal["csv", "xlsx"]) -> bytes:
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return buffer.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
