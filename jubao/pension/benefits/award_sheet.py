"""待遇核定表 as a file (CSV or Excel), to print and file in the person's archive."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.errors import Lang, Text
from jubao.pension.benefits.award import Award
from jubao.pension.exports import Cell, Format, Yuan, render
from jubao.pension.month import Month
from jubao.pension.people.personal import Disclosure
from jubao.pension.people.persons import Person
from jubao.pension.policy.params import PensionItem
from jubao.tenants.codes import RegionCode

_ITEMS = {
    PensionItem.BASE: Text("基础养老金", "basic pension"),
    PensionItem.AGE: Text("高龄加发", "age top-up"),
    PensionItem.YEARS: Text("缴费年限加发", "years top-up"),
}


def _funder(prefix: str, lang: Lang) -> str:
    """The level whose layer it is ("" the national one)."""
    if not prefix:
        return Text("国家", "national")(lang)
    level = RegionCode.from_prefix(prefix).level
    return Text(f"{level.zh}级", level.name.lower())(lang)


async def award_file(
    session: AsyncSession, actor: Actor, person: Person, award: Award, fmt: Format, lang: Lang
) -> bytes:
    zh = lang is Lang.ZH
    disclosure = Disclosure(actor)
    shown = disclosure.show(person.region, f"person:{person.id}", "id_number", person.id_number)
    found = award.figures
    rows: list[list[Cell]] = [
        ["城乡居民基本养老保险待遇核定表" if zh else "Pension award"],
        ["姓名" if zh else "Name", person.name, "公民身份号码" if zh else "ID number", str(shown)],
        ["参保村（社区）" if zh else "Village", person.region_code],
        [
            "累计缴费年限" if zh else "Years paid",
            found.years.paid,
            "应缴年限" if zh else "Years required",
            found.years.required,
        ],
        ["领取待遇起始年月" if zh else "First month paid", str(found.start)],
        [
            "制度实施时已到龄" if zh else "Of age when the scheme began",
            Text("是", "yes")(lang) if found.transitional else Text("否", "no")(lang),
        ],
        [],
        [
            "个人账户储存额" if zh else "Account balance at award",
            "",
            "金额（元）" if zh else "Yuan",
        ],
    ]
    for component, balance in sorted(found.balances.items()):
        rows.append([component.text(lang), "", Yuan(balance)])
    rows.append(["合计" if zh else "Total", "", Yuan(found.account_total)])
    rows.append([])
    rows.append(
        [
            "月养老金" if zh else "Monthly pension",
            "出资层级" if zh else "Funded by",
            "金额（元）" if zh else "Yuan",
        ]
    )
    for line in found.lines:
        rows.append([_ITEMS[line.item](lang), _funder(line.prefix, lang), Yuan(line.amount)])
    rows.append(["基础养老金合计" if zh else "Basic pension", "", Yuan(found.basic_pension)])
    rows.append(
        [
            f"个人账户养老金（÷{found.divisor}）" if zh else f"Account pension (÷{found.divisor})",
            "",
            Yuan(found.account_pension),
        ]
    )
    rows.append(["月养老金合计" if zh else "Monthly total", "", Yuan(found.monthly)])
    rows.append([])
    rows.append(["复核人" if zh else "Approved by", award.awarded_by, str(award.awarded_at.date())])
    if award.corrects_id is not None:  # a correction says so, from when and why
        rows.append(
            [
                "更正执行月份" if zh else "Corrected, in force from",
                str(Month.of(award.effective_month)),
                award.reason or "",
            ]
        )
    await disclosure.record(session)
    return render(rows, fmt)
