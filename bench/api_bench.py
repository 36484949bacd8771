"""API throughput: a page of 50 people with their account balances, on one uvicorn worker on
PostgreSQL (target ≥ 100 requests/s), beside a bare Starlette endpoint that runs the same SQL
(authentication, the scoped page, its count, the balances) and returns the same JSON, encoded
the same way; and a pensioner's page (the award and the last twelve payments, one in five of
the people being paid every month of 2026), which should keep the persons page's rate.

    python -m bench.api_bench [--people 5000] [--seconds 10] [--rounds 3] [--connections 8]

Needs ``wrk`` (Debian package ``wrk``) for the load; the servers and the database are set up
and removed by the script. Both servers are warmed up, then loaded in turn ``--rounds`` times;
the median of each is printed (this machine's speed varies by ±20 % from one second to the
next, so a single run says little).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import func, select, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.relay import to_base64

from bench.common import AWARD_CLAIM, AWARDS, SYSTEM, fresh_database, load_regions
from jubao.authz.grants import grant_role
from jubao.authz.operators import create_operator
from jubao.pension.accounts.ledger import balances
from jubao.pension.accounts.money import format_yuan
from jubao.pension.people.idnumber import mask_id_number
from jubao.pension.people.persons import Person
from jubao.platform.authn import authenticate_token, bearer_token
from jubao.platform.services import Services
from jubao.tenants.codes import RegionCode

QUERY = """{ persons(first: 50) { totalCount edges { node {
  id name idNumber status account { total balances { component balance } } } } } }"""
# 个人待遇页: the award and the last twelve payments of one pensioner
RECIPIENT = """query ($id: ID!) { node(id: $id) { ... on Person {
  id name idNumber status
  benefitAward { awardedAt figures { startMonth yearsPaid accountTotal divisor accountPension
    basicPension monthly balances { component balance } basicPensionItems { item amount } } }
  payments(first: 12) { edges { node {
    month kind state amount fromAccount fromPool basicPension { level amount } settledOn } } }
} } }"""
RECIPIENTS = [
    AWARD_CLAIM,
    AWARDS.replace("{which}", "id % 5 = 0"),
    "UPDATE person SET status = 'receiving' WHERE id % 5 = 0",
    """INSERT INTO payroll_run (region_code, month, kind, state, lines, total, held,
         prepared_by_name, prepared_at, version)
       SELECT DISTINCT substr(p.region_code, 1, 6) || '000000', m.month::date, 'regular',
              'released', 0, 0, 0, 'bench', now(), 1
       FROM person p,
            generate_series(DATE '2026-01-01', DATE '2026-12-01', interval '1 month') m(month)""",
    """INSERT INTO pay_line (run_id, person_id, region_code, month, kind, state, basic_national,
         basic_province, basic_city, basic_county, from_account, from_pool, amount, items,
         bank_account, from_returned, bank_reference, settled_on)
       SELECT r.id, p.id, p.region_code, r.month, 'regular', 'paid', 16300, 0, 0, 0, 6043, 0,
              22343, '[{"prefix": "", "item": "base", "amount": 16300}]',
              '62284800' || lpad(p.id::text, 11, '0'), false, 'R' || p.id, r.month + 9
       FROM person p JOIN payroll_run r ON r.region_code = substr(p.region_code, 1, 6) || '000000'
       WHERE p.id % 5 = 0""",
]
CITY = RegionCode("410100000000")
PASSWORD = "bench-password-1"
LOGIN = f"""mutation {{ login(input: {{username: "bench.supervisor", password: "{PASSWORD}"}}) {{
  tokens {{ accessToken }} }} }}"""
ROOT = Path(__file__).resolve().parents[1]


def bare_app() -> Starlette:
    """The same work without GraphQL: what the GraphQL layer costs is the difference."""
    from jubao.platform.settings import Settings

    services = Services.create(Settings())

    async def persons(request: Request) -> Response:
        caller = await authenticate_token(
            services, bearer_token(request.headers["authorization"]) or ""
        )
        async with services.db.session(caller.actor) as session:
            page = (await session.scalars(select(Person).order_by(Person.id).limit(51))).all()
            total = await session.scalar(
                select(func.count()).select_from(select(Person).subquery())
            )
            found = await balances(session, [p.id for p in page[:50]])
        edges = []
        for person in page[:50]:
            amounts = found[person.id]
            edges.append(
                {
                    "node": {
                        "id": person.id,
                        "name": person.name,
                        "idNumber": mask_id_number(person.id_number),
                        "status": person.status.upper(),
                        "account": {
                            "total": format_yuan(sum(amounts.values())),
                            "balances": [
                                {"component": c.upper(), "balance": format_yuan(v)}
                                for c, v in sorted(amounts.items())
                            ],
                        },
                    }
                }
            )
        body = {"data": {"persons": {"totalCount": total, "edges": edges}}}
        return Response(orjson.dumps(body), media_type="application/json")

    return Starlette(routes=[Route("/persons", persons, methods=["POST"])])


async def prepare(services: Services, people: int) -> None:
    villages = [v for v in await load_regions(services, (2, 4, 5, 10)) if v.startswith(CITY.prefix)]
    async with services.db.engine.begin() as connection:
        await connection.execute(
            text(
                """INSERT INTO person (id, id_number, name, sex, birth_date, ethnicity, hukou,
                     region_code, address, grade, status, enrolled_on, created_at, updated_at,
                     version)
                   SELECT i, 'B' || lpad(i::text, 17, '0'), '测试' || i, 1 + i % 2,
                          DATE '1960-01-01' + (i % 9000), '01', 'rural',
                          v.villages[1 + i % cardinality(v.villages)], '某村', 50000,
                          'contributing', DATE '2023-06-01', now(), now(), 1
                   FROM generate_series(1, :n) AS i,
                        (SELECT CAST(:villages AS text[]) AS villages) AS v"""
            ),
            {"n": people, "villages": villages},
        )
        await connection.execute(
            text(
                """INSERT INTO account_balance (person_id, component, region_code, balance)
                   SELECT p.id, c.component, p.region_code, c.amount FROM person p
                   CROSS JOIN (VALUES ('personal', 150000), ('subsidy_province', 18000))
                     AS c(component, amount)"""
            )
        )
        # one in five a pensioner, paid every month of 2026 by their county's released runs
        for statement in RECIPIENTS:
            await connection.execute(text(statement))
    async with services.db.engine.connect() as connection:
        # as autovacuum would have done on a real database by now
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("ANALYZE"))
    async with services.db.transaction(SYSTEM) as session:
        supervisor = await create_operator(
            session,
            SYSTEM,
            services.settings.passwords,
            username="bench.supervisor",
            display_name="基准",
            region=CITY,
            password=PASSWORD,
            password_expired=False,
        )
        await grant_role(
            session,
            SYSTEM,
            user_id=supervisor.id,
            role_name="city_supervisor",
            region=CITY,
            reason="bench",
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError((process.stderr.read() if process.stderr else b"").decode())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(
    url: str, body: dict[str, Any], token: str, seconds: int, connections: int, pid: int
) -> tuple[float, float]:
    """Requests per second, and the server's CPU milliseconds per request (steadier than the
    rate on a machine whose speed varies)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(json.dumps(body))}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        )
    cpu = cpu_seconds(pid)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = cpu_seconds(pid) - cpu
    os.unlink(script.name)
    if "Non-2xx" in out:
        raise RuntimeError(out)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return rate, cpu / requests * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed for the load (apt install wrk)")
    async with fresh_database("postgresql") as services:
        await prepare(services, args.people)
        env = {
            **os.environ,
            "JUBAO_DATABASE_URL": services.db.url,
            "JUBAO_LOG_LEVEL": "WARNING",
            "JUBAO_ARGON2_MEMORY_KIB": "8",
            "JUBAO_ARGON2_TIME_COST": "1",
            "JUBAO_ARGON2_PARALLELISM": "1",
            # set, or the server would keep a generated one in the working directory
            "JUBAO_SECRET_KEY": secrets.token_urlsafe(48),
            "PYTHONPATH": str(ROOT),
        }
        api_port, bare_port = free_port(), free_port()
        api = start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "jubao.platform.app:serve_factory",
                "--factory",
                "--port",
                str(api_port),
                "--workers",
                "1",
                "--no-access-log",
            ],
            env,
            api_port,
        )
        bare = start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.api_bench:bare_app",
                "--factory",
                "--port",
                str(bare_port),
                "--workers",
                "1",
                "--no-access-log",
            ],
            env,
            bare_port,
        )
        recipient_body: dict[str, Any] = {
            "query": RECIPIENT,
            "variables": {"id": to_base64("Person", 2500)},
        }
        try:
            async with httpx.AsyncClient() as client:
                login = await client.post(
                    f"http://127.0.0.1:{api_port}/graphql",
                    json={"query": LOGIN},
                )
                token = login.json()["data"]["login"]["tokens"]["accessToken"]
                check = await client.post(
                    f"http://127.0.0.1:{api_port}/graphql",
                    json={"query": QUERY},
                    headers={"Authorization": f"Bearer {token}"},
                )
                graph = check.json()["data"]["persons"]
                same = await client.post(
                    f"http://127.0.0.1:{bare_port}/persons",
                    headers={"Authorization": f"Bearer {token}"},
                )
                plain = same.json()["data"]["persons"]
                page = await client.post(
                    f"http://127.0.0.1:{api_port}/graphql",
                    json=recipient_body,
                    headers={"Authorization": f"Bearer {token}"},
                )
                pensioner = page.json()["data"]["node"]
            assert pensioner["benefitAward"]["figures"]["monthly"] == "223.43", pensioner
            assert len(pensioner["payments"]["edges"]) == 12, pensioner
            assert len(graph["edges"]) == len(plain["edges"]) == 50
            assert graph["totalCount"] == plain["totalCount"]
            assert [e["node"]["account"] for e in graph["edges"]] == [
                e["node"]["account"] for e in plain["edges"]
            ]
            targets = {
                "graphql": (f"http://127.0.0.1:{api_port}/graphql", {"query": QUERY}, api.pid),
                "recipient": (f"http://127.0.0.1:{api_port}/graphql", recipient_body, api.pid),
                "bare": (f"http://127.0.0.1:{bare_port}/persons", {}, bare.pid),
            }
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
            for url, body, pid in targets.values():
                load(url, body, token, 3, args.connections, pid)  # warm-up
            for _ in range(args.rounds):
                for name, (url, body, pid) in targets.items():
                    runs[name].append(load(url, body, token, args.seconds, args.connections, pid))
        finally:
            for process in (api, bare):
                process.terminate()
                process.wait(timeout=15)
    print(f"page of 50 people with balances, {graph['totalCount']:,} in scope, one worker,")
    print(
        f"PostgreSQL, {args.connections} connections, median of {args.rounds} × {args.seconds} s:"
    )
    medians = {}
    for label, name in (
        ("GraphQL (jubao)     ", "graphql"),
        ("bare Starlette + SQL", "bare"),
        ("a pensioner's page  ", "recipient"),
    ):
        rate = statistics.median(r for r, _ in runs[name])
        cpu = statistics.median(c for _, c in runs[name])
        medians[name] = rate
        each = ", ".join(f"{r:.1f}" for r, _ in runs[name])
        print(f"  {label} {rate:7.1f} requests/s, {cpu:5.2f} ms CPU each   (runs: {each})")
    print(f"  GraphQL layer cost: {medians['bare'] / medians['graphql']:.2f}× the bare time")
    print(
        "  a pensioner's page (the award and the last 12 payments, by node id): "
        f"{medians['recipient'] / medians['graphql']:.2f}× the persons page's rate"
    )


if __name__ == "__main__":
    asyncio.run(main())
