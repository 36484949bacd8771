"""The README's examples, run against `jubao demo`'s data as its logins: each answers, and
with data (the demo has people, contributions, interest and applications waiting)."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from jubao.authz.actor import Actor
from jubao.pension.accounts.interest import InterestRun
from jubao.pension.accounts.ledger import AccountEntry
from jubao.pension.people.persons import Person
from jubao.platform.app import create_app
from jubao.platform.demo import DEMO_PASSWORD, load_demo
from jubao.platform.demo_people import seed_people
from jubao.platform.migrate import migrate
from jubao.platform.services import Services
from jubao.tenants.codes import Level
from tests.conftest import make_settings
from tests.helpers import Api, Clock

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
async def demo(tmp_path: Path) -> Any:
    services = Services.create(
        make_settings(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"), clock=Clock()
    )
    await migrate(services.db)
    actor = Actor.system("demo")
    async with services.db.transaction(actor) as session:
        # the smallest demo tree that still has every region the README names
        logins = await load_demo(session, services.settings.passwords, size=(1, 2, 1, 2))
    village = next(login.region for login in logins if login.region.level is Level.VILLAGE)
    people = await seed_people(services.db, actor, today=Clock().today(), waiting_in=village)
    yield services, people
    await services.db.dispose()


def empty_lists(data: Any, path: str = "") -> Iterator[str]:
    """Every list in ``data`` that is empty, and every connection whose count is 0."""
    if isinstance(data, list):
        if not data:
            yield path
        for n, item in enumerate(data):
            yield from empty_lists(item, f"{path}[{n}]")
    elif isinstance(data, dict):
        if data.get("totalCount") == 0:
            yield path
        for key, value in data.items():
            yield from empty_lists(value, f"{path}.{key}")


async def test_every_readme_example_answers_with_data(demo: Any) -> None:
    services, people = demo
    assert people >= 8
    async with services.db.session(Actor.system("t")) as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == people
        assert await session.scalar(select(func.count()).select_from(AccountEntry)) > people
        runs = (await session.scalars(select(InterestRun).order_by(InterestRun.year))).all()
    assert [r.year for r in runs] == list(range(2016, 2026)) and all(r.finished_at for r in runs)
    assert sum(r.total for r in runs) > 0
    transport = httpx.ASGITransport(app=create_app(services=services))
    async with httpx.AsyncClient(transport=transport, base_url="http://jubao.test") as client:
        api = Api(client)
        login = await api.login("county.reviewer", DEMO_PASSWORD)
        token = login["data"]["login"]["tokens"]["accessToken"]
        blocks = re.findall(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
        assert len(blocks) >= 4
        for block in blocks:
            if block.lstrip().startswith("mutation"):
                result = await api.post(block)
                assert result["data"]["login"]["tokens"], result
                continue
            result = await api.post(block, token=token)
            assert "errors" not in result, result
            assert list(empty_lists(result["data"])) == [], (block, result)
