"""Rules of the code that no single behaviour test would catch when broken, read from the
source: where the data scope is deliberately left, and where "today" comes from."""

import ast
from collections.abc import Iterator
from pathlib import Path

from jubao.platform import models
from jubao.tenants.scope import RegionScoped

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "jubao"

# Every function allowed to read or write a region-scoped table past the caller's scope
# (`jubao.tenants.scope.unscoped`), with why. A new one fails this test until it is listed here
# — that is, until someone has decided it.
UNSCOPED = {
    ("authz/operators.py", "username_taken"): "usernames are unique across the province",
    ("authz/operators.py", "lock_operator"): "a lock on an operator already found in scope",
    (
        "pension/accounts/contributions.py",
        "booked_years",
    ): "a year paid is paid, whoever may read it",
    ("pension/accounts/contributions.py", "book"): "writes the year of a person found in scope",
    ("pension/accounts/contributions.py", "paid_years"): "a year paid is paid, whoever may read it",
    ("pension/benefits/award.py", "payment_open"): "an open 代缴 list decides the award",
    (
        "pension/people/enrollment.py",
        "check_not_enrolled",
    ): "one person per ID number in the province",
    (
        "pension/people/enrollment.py",
        "check_no_open_enrollment",
    ): "one open enrolment per ID number",
    ("pension/people/id_check.py", "non_canonical_id_numbers"): "a data-quality scan of everyone",
    ("pension/people/imports.py", "_villages"): "region codes are public",
    (
        "pension/people/imports.py",
        "_mark_against_database",
    ): "one person per ID number in the province",
    ("pension/people/imports.py", "_write"): "a system import puts in the people it checked",
    ("pension/accounts/interest.py", "_interest_rows"): "a system run bounded by its own region",
    ("pension/accounts/interest.py", "_rates"): "a system run bounded by its own region",
    ("pension/accounts/interest.py", "_check_order"): "a system run bounded by its own region",
    ("pension/accounts/interest.py", "_finished_over"): "whether a year is closed above a region",
    ("pension/accounts/interest.py", "last_posted_year"): "whether a year is closed above a region",
    (
        "pension/accounts/interest.py",
        "_check_not_posted",
    ): "whether a year is closed above a region",
    ("pension/accounts/interest.py", "begin_run"): "a system run bounded by its own region",
    ("audit.py", "record_many"): "the audit trail's own rows, for the region each names",
    ("jobs.py", "run_chunk"): "the job system's own records, by job id",
    ("jobs.py", "close"): "the job system's own records, by job id",
    ("jobs.py", "_failed"): "the job system's own records, by job id",
    ("jobs.py", "pending"): "the job system's own records, by job id",
    ("jobs.py", "resume"): "the job system's own records, by job id",
    ("pension/accounts/interest.py", "post_chunk"): "a system run bounded by its own region",
    ("pension/accounts/interest.py", "_book_chunk"): "a system run bounded by its own region",
    ("pension/accounts/interest.py", "_run_to_complete"): "a system run bounded by its own region",
    ("pension/benefits/payroll.py", "counties_under"): "region codes are public",
    ("pension/benefits/payroll.py", "insert_legs"): "legs of a transaction being booked (writes)",
    ("pension/accounts/ledger.py", "upsert_balances"): "balances moved with their legs (writes)",
    ("pension/benefits/bank_files.py", "export_run"): "the lines of a run the exporter may export",
    ("pension/benefits/award.py", "in_effect"): "the later versions of an award being read",
    ("pension/benefits/award.py", "replaced"): "the later versions of an award being read",
    (
        "pension/benefits/correction.py",
        "_first_open_month",
    ): "the months prepared for the person being corrected (in the reviewer's county)",
    ("pension/benefits/payroll.py", "_versions"): "the award versions of a county's recipients",
    ("pension/benefits/payroll.py", "_holds_for"): "the pauses of a county's recipients",
    ("pension/benefits/payroll.py", "_mark_back_paid"): "the pauses a county's run paid back",
    ("pension/benefits/payroll.py", "_months_prepared"): "the months a county's run paid before",
    ("pension/benefits/payroll.py", "first_open_month"): "a county's own runs decide the month",
    (
        "pension/entitlement/verification.py",
        "pause_overdue",
    ): "a system step of a county's run, bounded by the county",
    (
        "pension/entitlement/sightings.py",
        "_verify_chunk",
    ): "writes the verifications of people found in scope",
    (
        "pension/benefits/payroll.py",
        "prepare",
    ): "a county's run, bounded by the county (the right checked first)",
    (
        "pension/benefits/payroll.py",
        "_accounts_left",
    ): "a recipient of the run: what their account holds",
    (
        "pension/benefits/payroll.py",
        "_account_debits",
    ): "the recipients of a released run: their balances",
    (
        "pension/benefits/payroll.py",
        "_arrears_horizon",
    ): "policy sets are the province's: when any changed",
    (
        "pension/benefits/payroll.py",
        "_paid_basic",
    ): "the recipients of the run: what their months paid",
    ("pension/benefits/payroll.py", "replaced"): "whether a line of the run was paid again",
    ("pension/benefits/payroll.py", "count_run"): "the lines of one run",
    ("pension/termination/deaths.py", "_chunk"): "writes the reports of people found in scope",
    (
        "pension/termination/payouts.py",
        "prepare_payouts",
    ): "a county's one-off run, bounded by the county",
    (
        "pension/termination/termination.py",
        "_check_lines",
    ): "every line of a person found in scope",
    (
        "pension/termination/termination.py",
        "_overpaid",
    ): "every line of a person found in scope",
    ("pension/benefits/payroll.py", "release"): "the lines of a run the releaser may release",
    ("pension/benefits/payroll.py", "_book_release"): "the lines of a run the releaser may release",
    ("pension/benefits/settlement.py", "settle"): "the lines of a run the importer may settle",
    (
        "pension/benefits/settlement.py",
        "_book_results",
    ): "the lines of a run the importer may settle",
    (
        "pension/benefits/payroll.py",
        "prepare_supplementary",
    ): "a county's lines, bounded by the county (the right checked first)",
    (
        "pension/benefits/reconciliation.py",
        "reconcile",
    ): "the lines and legs of one run the caller can see",
    ("pension/people/persons.py", "abolish_region"): "nobody may be left in an abolished region",
    ("platform/api/loaders.py", "_holders"): "who holds the grants one may see",
    ("pension/policy/params.py", "load"): "policy is public within the province",
    ("tenants/abolition.py", "abolish_subtree"): "region codes are public",
    ("tenants/models.py", "check_in_use"): "region codes are public (rights come first)",
}


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield str(path.relative_to(PACKAGE)), ast.parse(path.read_text(encoding="utf-8"))


def calls_in_functions(tree: ast.Module, name: str) -> Iterator[tuple[str, ast.Call]]:
    """(enclosing function, call) for every call of ``name``."""
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == name
                ):
                    yield function.name, node


def test_the_unscoped_path_is_taken_only_where_listed() -> None:
    found = {
        (module, function)
        for module, tree in modules()
        for function, _ in calls_in_functions(tree, "unscoped")
        if module != "tenants/scope.py"
    }
    assert found == set(UNSCOPED), (
        f"not listed: {sorted(found - set(UNSCOPED))}; listed but gone: "
        f"{sorted(set(UNSCOPED) - found)}"
    )


def test_no_region_scoped_table_is_reached_around_the_helper() -> None:
    """``Model.__table__`` of a region-scoped model is the unscoped path too: only through
    `unscoped`, so that the list above is complete."""
    scoped = {
        mapper.class_.__name__
        for mapper in models.Base.registry.mappers
        if issubclass(mapper.class_, RegionScoped)
    }
    assert {"Person", "Contribution", "AccountEntry", "Region"} <= scoped
    around = [
        (module, node.lineno)
        for module, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "__table__"
        and isinstance(node.value, ast.Name)
        and node.value.id in scoped
    ]
    assert around == []


def test_today_is_the_business_date_given_by_the_caller() -> None:
    """No service falls back to the machine's date (a server on UTC dates the first eight
    hours of a Chinese day to the day before): ``today`` is a required argument, supplied by
    each adapter from the business clock."""
    machine_dates = []
    defaulted = []
    for module, tree in modules():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "today"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "date"
            ):
                machine_dates.append((module, node.lineno))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                arguments = node.args
                positional = arguments.posonlyargs + arguments.args
                with_defaults = positional[len(positional) - len(arguments.defaults) :]
                keyword = [
                    arg
                    for arg, default in zip(
                        arguments.kwonlyargs, arguments.kw_defaults, strict=True
                    )
                    if default is not None
                ]
                for arg in [*with_defaults, *keyword]:
                    if arg.arg in ("today", "valid_from", "on"):
                        defaulted.append((module, node.name, arg.arg))
    assert machine_dates == []
    assert defaulted == []
