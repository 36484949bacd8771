"""The pension commands: policy files, cross-check lists, imports, bank files, interest, ledger."""

import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import OperationalError

from jubao.audit import AuditEvent
from jubao.pension.accounts.contributions import Contribution
from jubao.pension.accounts.ledger import AccountBalance
from jubao.pension.accounts.money import format_yuan
from jubao.pension.people import imports
from jubao.pension.people.crosscheck import EmployeeInsured
from jubao.pension.people.persons import Person
from tests.pension.support import id_number
from tests.platform.test_cli import query

ROOT = Path(__file__).resolve().parents[2]
REGIONS = (
    "code,name,urban_rural_class\n410000000000,中原省,\n410100000000,白水市,\n410121000000,乐平县,\n"
    "410121101000,石岭镇,\n410121101201,马家湾村,220\n410121101202,李圩村,220\n"
    "220000000000,吉林省,\n220100000000,长春市,\n"
)
PEOPLE_HEADER = (
    "身份证号码,姓名,民族,户籍性质,区划代码,户籍地址,缴费档次,参保日期,银行账号,参保身份\n"
)


def setup(jubao, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert jubao("migrate").exit_code == 0
    (tmp_path / "regions.csv").write_text(REGIONS, encoding="utf-8")
    assert jubao("regions", "import", "regions.csv").exit_code == 0


def test_policy_load_and_show(jubao, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    setup(jubao, tmp_path)
    loaded = jubao("policy", "load", str(ROOT / "examples" / "policy" / "changchun-2011.toml"))
    assert loaded.exit_code == 0, loaded.output
    shown = jubao("policy", "show", "220100000000", "2012")
    assert shown.exit_code == 0, shown.output
    rules = json.loads(shown.output)
    assert rules["contribution"]["grades"][-1] == "1000.00"
    assert rules["subsidy"]["split"] == {"province": 6, "city": 2, "county": 2}
    assert rules["basic_pension"] == {
        "monthly": "55.00",
        "layers": {"national": "55.00", "2201": "0.00"},
    }
    national = json.loads(jubao("policy", "show", "410121101201", "2026").output)
    assert national["contribution"]["grades"][-1] == "2000.00"
    assert national["basic_pension"] == {"monthly": "163.00", "layers": {"national": "163.00"}}
    (tmp_path / "bad.toml").write_text(
        'region = "220100000000"\neffective_year = 2012\n[contribution]\ngrades = [100.5]\n',
        encoding="utf-8",
    )
    bad = jubao("policy", "load", "bad.toml")
    assert bad.exit_code == 1 and "政策参数无效" in bad.output


def test_crosscheck_import(jubao, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    setup(jubao, tmp_path)
    rows = f"身份证号码,参保日期,终止日期\n{id_number(date(1980, 1, 1), 1)},2005-01-01,\n41012119800101001X,,\n"
    (tmp_path / "employees.csv").write_text(rows, encoding="utf-8")
    result = jubao("crosscheck", "import", "employees", "employees.csv")
    assert result.exit_code == 0, result.output
    assert "已导入 1 人，拒绝 1 行" in result.output
    assert "employees.csv:3:" in result.output
    assert query(jubao.url, select(func.count()).select_from(EmployeeInsured)) == 1


def person_id_of(url: str, number: str) -> int:
    return int(query(url, select(Person.id).where(Person.id_number == number)))


def test_import_bank_interest_ledger_and_statement(jubao, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    setup(jubao, tmp_path)
    (tmp_path / "province.toml").write_text(
        'region = "410000000000"\neffective_year = 2014\ntitle = "测试省"\n[interest]\nrate = "1.5%"\n',
        encoding="utf-8",
    )
    assert jubao("policy", "load", "province.toml").exit_code == 0
    ids = [id_number(date(1970, 1, 1), n) for n in (1, 2, 3)]
    people = (
        PEOPLE_HEADER
        + "".join(
            f"{i},村民{n},01,农业,410121101201,某村,500,2020-01-01,6222{n:011d},{'031' if n == 2 else '011'}\n"
            for n, i in enumerate(ids)
        )
        + "41012119700101001X,坏号,01,农业,410121101201,某村,500,2020-01-01,,011\n"
    )
    (tmp_path / "people.csv").write_text(people, encoding="utf-8")
    imported = jubao("import", "persons", "people.csv")
    assert imported.exit_code == 0, imported.output
    assert "导入 3 人" in imported.output and "拒绝 1 行" in imported.output
    assert "5: 身份证号码校验位不正确" in (tmp_path / "people.csv.rejected.txt").read_text(
        encoding="utf-8"
    )
    strict = jubao("import", "persons", "people.csv", "--all-or-nothing")
    assert strict.exit_code == 1

    exported = jubao("contributions", "bank-export", "410121101000", "2024", "collect.csv")
    assert exported.exit_code == 0, exported.output
    assert "已写入 3 人，合计 1400.00 元；无银行账号 0 人" in exported.output
    lines = (tmp_path / "collect.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "批次号,个人编号,身份证号码,姓名,银行账号,年度,档次,扣款金额"
    assert len(lines) == 4  # the 代缴 person still owes 400 of the 500 grade
    assert lines[3].endswith(",2024,500.00,400.00")
    result_rows = ["批次号,个人编号,身份证号码,年度,档次,扣款金额,扣款结果,银行流水号,扣款日期"]
    for n, line in enumerate(lines[1:]):
        batch, person_id, number, _, _, year, grade, amount = line.split(",")
        outcome = "失败：余额不足" if n == 1 else "成功"
        result_rows.append(
            f"{batch},{person_id},{number},{year},{grade},{amount},{outcome},B{n},2024-03-15"
        )
    (tmp_path / "result.csv").write_text("\n".join(result_rows) + "\n", encoding="utf-8")
    posted = jubao("contributions", "bank-import", "result.csv")
    assert posted.exit_code == 0, posted.output
    assert "入账 2 笔" in posted.output and "未入账 1 笔" in posted.output
    assert "银行扣款失败：失败：余额不足" in (tmp_path / "result.csv.refused.txt").read_text(
        encoding="utf-8"
    )
    again = jubao("contributions", "bank-import", "result.csv")
    assert "入账 0 笔，此前已入账 2 笔" in again.output
    assert query(jubao.url, select(func.count()).select_from(Contribution)) == 2

    assert jubao("interest", "post", "2024").exit_code == 0
    posted_2025 = jubao("--lang", "en", "interest", "post", "2025")
    assert posted_2025.exit_code == 0 and "2 accounts" in posted_2025.output
    total = query(jubao.url, select(func.sum(AccountBalance.balance)))
    # 500 + 60 for one, 400 + 100 (代缴) + 60 for the other, then 1.5 % for 2025
    assert total == 56000 + 56000 + round(112000 * 0.015)
    assert jubao("ledger", "check").exit_code == 0
    personal = (AccountBalance.person_id == person_id_of(jubao.url, ids[0])) & (
        AccountBalance.component == "personal"
    )
    balance = query(jubao.url, select(AccountBalance.balance).where(personal))
    tamper = update(AccountBalance).where(personal)
    query(jubao.url, tamper.values(balance=balance + 1), commit=True)
    checked = jubao("ledger", "check")
    assert checked.exit_code == 1
    assert (
        f"的个人缴费：余额 {format_yuan(balance + 1)} 元，明细合计 {format_yuan(balance)} 元"
        in checked.output
    )
    assert "账务检查发现 1 处不符" in checked.output
    query(jubao.url, tamper.values(balance=balance), commit=True)

    reads = select(func.count()).where(AuditEvent.action == "person.personal_data_read")
    before = query(jubao.url, reads)
    csv_out = jubao("ledger", "statement", ids[0], "2025", "--output", "statement.csv")
    assert csv_out.exit_code == 0, csv_out.output
    # the statement shows the ID number and name unmasked: the read is on the record
    assert query(jubao.url, reads) == before + 1
    text = (tmp_path / "statement.csv").read_text(encoding="utf-8-sig")
    assert "个人账户对账单" in text and "利息" in text and "568.40" in text
    assert jubao("ledger", "statement", ids[0], "2025", "--output", "statement.xlsx").exit_code == 0
    sheet = load_workbook(tmp_path / "statement.xlsx").active
    assert sheet is not None and sheet["A1"].value == "个人账户对账单"


def test_check_ids_reports_numbers_stored_before_the_normaliser(jubao, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    setup(jubao, tmp_path)
    clean = jubao("persons", "check-ids")
    assert clean.exit_code == 0 and "均为标准形式" in clean.output
    number = id_number(date(1960, 1, 1), 1)
    full_width = number.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    person = {
        "name": "旧数据",
        "sex": 1,
        "birth_date": date(1960, 1, 1),
        "ethnicity": "01",
        "hukou": "rural",
        "region_code": "410121101201",
        "address": "某村",
        "grade": 50000,
        "status": "contributing",
        "enrolled_on": date(2020, 1, 1),
    }
    for value in (number, full_width):
        query(jubao.url, insert(Person).values(id_number=value, **person), commit=True)
    found = jubao("--lang", "en", "persons", "check-ids")
    assert found.exit_code == 1
    first = person_id_of(jubao.url, number)
    assert f"and is the same number as person {first}" in found.output
    assert "1 ID numbers are not in canonical form" in found.output
    assert number not in found.output and full_width not in found.output  # no personal data


def test_an_interrupted_import_prints_one_line_without_personal_data(  # type: ignore[no-untyped-def]
    jubao, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(jubao, tmp_path)
    ids = [id_number(date(1970, 1, 1), n) for n in (1, 3, 5)]
    people = PEOPLE_HEADER + "".join(
        f"{i},村民{n},01,农业,410121101201,某村,500,2020-01-01,6222{n:011d},011\n"
        for n, i in enumerate(ids)
    )
    (tmp_path / "people.csv").write_text(people, encoding="utf-8")

    async def connection_lost(*args: object) -> int:
        raise OperationalError(
            "INSERT INTO person …", [(ids[0], "村民0")], ConnectionResetError("reset by peer")
        )

    with monkeypatch.context() as patch:
        patch.setattr(imports, "_write", connection_lost)
        lost = jubao("import", "persons", "people.csv")
    assert lost.exit_code == 1
    assert lost.output.startswith("Error: 导入中断") and lost.output.count("\n") == 1
    assert "可以放心地再次运行同一命令" in lost.output
    assert not [secret for secret in (*ids, "村民") if secret in lost.output]
    assert not list(tmp_path.glob("people.csv.rejected.txt*"))  # no half report left behind

    again = jubao("import", "persons", "people.csv")
    assert again.exit_code == 0, again.output
    assert "导入 3 人" in again.output and "本文件累计导入 3 人（导入批次 1）" in again.output
    assert (tmp_path / "people.csv.rejected.txt").read_text(encoding="utf-8") == ""
