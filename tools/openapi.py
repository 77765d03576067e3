"""Write each service's OpenAPI document to docs/openapi/, for readers without a running system.

    python -m tools.openapi          # write
    python -m tools.openapi --check  # exit 1 when a checked-in document is stale
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from tools.infra import SERVICES

OUT = Path(__file__).resolve().parent.parent / "docs" / "openapi"


def documents() -> dict[Path, str]:
    result = {}
    for name in SERVICES:
        app = importlib.import_module(f"services.{name}.bootstrap").bootstrap()
        result[OUT / f"{name}.json"] = json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"
    return result


def main(argv: list[str]) -> int:
    rendered = documents()
    if "--check" in argv:
        stale = [path for path, text in rendered.items()
                 if not path.exists() or path.read_text() != text]
        for path in stale:
            print(f"stale: {path} (run: uv run python -m tools.openapi)")
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for path, text in rendered.items():
        path.write_text(text)
    print(f"wrote {len(rendered)} OpenAPI documents to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
