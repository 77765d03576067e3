"""Keys for local runs (demo, end-to-end tests): made once per checkout, kept in
.cache/local-secrets.json (mode 600), so a restarted demo keeps its pseudonyms. The
services refuse the built-in development key outside development mode; these are
real random keys, only local."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

SECRETS_FILE = Path(__file__).resolve().parents[2] / ".cache/local-secrets.json"
KEYS = ("CHILD_REF_KEY", "PERSONAL_LINK_KEY", "SESSION_SECRET")


def local_secrets(path: Path = SECRETS_FILE) -> dict[str, str]:
    known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [key for key in KEYS if key not in known]
    if missing:
        known |= {key: secrets.token_urlsafe(48) for key in missing}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(known, indent=2))
        os.chmod(path, 0o600)
    return known
