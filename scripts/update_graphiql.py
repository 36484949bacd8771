"""Fetch GraphiQL and React from the npm registry, at the pinned versions, into the package.

GraphiQL is served from jubao's own files so that it works without internet access (see
docs/api.md). To update: change PINS, run ``python scripts/update_graphiql.py`` from the
project folder (it needs npm), run ``pytest tests/platform/test_graphiql*.py`` (the browser test
renders the page and runs a query) and commit the files it wrote together with their README.

GraphiQL 4.1 is the last release published as a UMD bundle (one file that needs only React 18's
UMD builds beside it); GraphiQL 5 is ES modules on Monaco and would need a bundler here.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
import textwrap
from collections import Counter
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "jubao/platform/static/graphiql/vendor"

# package: (version, licence, {file in the package: file served})
PINS: dict[str, tuple[str, str, dict[str, str]]] = {
    "graphiql": (
        "4.1.2",
        "MIT",
        {"graphiql.min.js": "graphiql.min.js", "graphiql.min.css": "graphiql.min.css"},
    ),
    "react": ("18.3.1", "MIT", {"umd/react.production.min.js": "react.production.min.js"}),
    "react-dom": (
        "18.3.1",
        "MIT",
        {"umd/react-dom.production.min.js": "react-dom.production.min.js"},
    ),
}
# GraphiQL's UMD bundle carries its own dependencies; its source map names them.
SOURCE_MAP = "dist/index.umd.js.map"


def npm_pack(spec: str, into: Path) -> dict[str, str]:
    """Download one package tarball (npm checks it against the registry's integrity hash)."""
    out = subprocess.run(
        ["npm", "pack", "--json", "--pack-destination", str(into), spec],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)[0]


def member(tar: tarfile.TarFile, name: str) -> bytes:
    file = tar.extractfile(f"package/{name}")
    if file is None:
        raise SystemExit(f"{name} is not a file in {tar.name}")
    return file.read()


def bundled_packages(source_map: bytes) -> list[str]:
    sources = json.loads(source_map)["sources"]
    found = Counter(
        match.group(1)
        for source in sources
        if (match := re.search(r"node_modules/((?:@[^/]+/)?[^/]+)", source))
    )
    return sorted(found)


def main() -> None:
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    VENDOR.mkdir(parents=True)
    rows: list[str] = []
    packages: list[str] = []
    bundled: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (version, licence, files) in PINS.items():
            packed = npm_pack(f"{name}@{version}", Path(tmp))
            packages.append(f"| {name} | {version} | {licence} | `{packed['integrity']}` |")
            with tarfile.open(Path(tmp) / packed["filename"]) as tar:
                (VENDOR / f"LICENSE-{name}").write_bytes(member(tar, "LICENSE"))
                for source, target in files.items():
                    data = member(tar, source)
                    (VENDOR / target).write_bytes(data)
                    digest = hashlib.sha256(data).hexdigest()
                    rows.append(
                        f"| `{target}` | {name}@{version} `{source}` | {len(data):,} | `{digest}` |"
                    )
                if name == "graphiql":
                    bundled = bundled_packages(member(tar, SOURCE_MAP))
    readme = [
        "# GraphiQL, served offline",
        "",
        "Written by `scripts/update_graphiql.py`; do not edit these files by hand (a test",
        "compares each file with its SHA-256 below). They are the packages' published files,",
        "byte for byte.",
        "",
        "| package | version | licence | npm integrity of the tarball |",
        "|---|---|---|---|",
        *packages,
        "",
        "| file | from | bytes | SHA-256 |",
        "|---|---|---|---|",
        *rows,
        "",
        "Each package's licence is beside it as `LICENSE-<package>`. GraphiQL's bundle contains",
        "these packages (from its source map), under their own licences — MIT, except",
        "`@react-aria/*` (Apache-2.0), `entities` (BSD-2-Clause) and `tslib` (0BSD):",
        "",
        textwrap.fill(
            ", ".join(f"`{p}`" for p in bundled) + ".", width=100, break_on_hyphens=False
        ),
        "",
    ]
    (VENDOR / "README.md").write_text("\n".join(readme), encoding="utf-8")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
