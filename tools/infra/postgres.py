"""A local PostgreSQL server in the repo's cache folder, run as an unprivileged user."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tools.infra.kafka import REPO_ROOT, file_lock, tail

PG_USER = "loket"
OS_USER = "postgres"  # PostgreSQL refuses to run as root, so root runs it as this user
READY_TIMEOUT_S = 60


def port() -> int:
    return int(os.environ.get("LOCAL_PG_PORT", "55432"))


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", OS_USER, "--", *args] if os.geteuid() == 0 else args


def base_dir() -> Path:
    """Holds data/, postgres.log and the Unix socket.

    Root hands this folder to the `postgres` user, which must be able to reach it; if
    it cannot traverse the repo's parents (e.g. a 0700 home), or the socket path would
    pass the 107-byte limit, fall back to /tmp/loket-pg-<hash of repo path>.
    """
    preferred = REPO_ROOT / ".cache/postgres"
    fallback = Path(f"/tmp/loket-pg-{hashlib.sha1(bytes(REPO_ROOT)).hexdigest()[:10]}")
    if len(f"{preferred}/.s.PGSQL.{port()}") > 100:
        return fallback
    if os.geteuid() == 0:
        preferred.parent.mkdir(parents=True, exist_ok=True)
        probe = subprocess.run(_as_server_user(["test", "-x", str(preferred.parent)]))
        if probe.returncode != 0:
            return fallback
    return preferred


def _bin(name: str) -> str:
    """A PostgreSQL binary from PATH or the Debian layout, installing it if root may."""
    for _ in range(2):
        found = shutil.which(name) or max(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                                          key=lambda p: int(p.split("/")[4]), default=None)
        if found:
            return found
        if os.geteuid() != 0:
            break
        subprocess.run(["apt-get", "update"], check=True)
        subprocess.run(["apt-get", "install", "-y", "postgresql"], check=True)
    raise RuntimeError(f"PostgreSQL '{name}' not found: install it (apt-get install postgresql)")


def server_ready(host: str, server_port: int) -> bool:
    # -U/-d so the probe does not leave "role/database does not exist" lines in the log.
    args = [_bin("pg_isready"), "-q", "-h", host, "-p", str(server_port),
            "-U", PG_USER, "-d", "postgres", "-t", "2"]
    return subprocess.run(args).returncode == 0


def admin_url() -> str:
    """The admin URL (database `postgres`): DATABASE_URL's server, else our local one."""
    if external := os.environ.get("DATABASE_URL"):
        parts = urlsplit(external)
        return urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    return f"postgresql://{PG_USER}@127.0.0.1:{port()}/postgres"


def ensure_postgres() -> str:
    """Return the admin URL, starting a local server unless DATABASE_URL is set."""
    if "DATABASE_URL" in os.environ:
        return admin_url()
    base = base_dir()
    data, log = base / "data", base / "postgres.log"
    with file_lock(REPO_ROOT / ".cache/postgres.lock"):
        if server_ready("127.0.0.1", port()):
            return admin_url()  # ours from an earlier `up`, or any server on that port
        base.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(base, OS_USER, OS_USER)
        if not (data / "PG_VERSION").exists():
            subprocess.run(
                _as_server_user([_bin("initdb"), "-D", str(data), "-A", "trust", "-U", PG_USER,
                                 "-E", "UTF8", "--no-locale", "--no-sync"]),
                check=True, capture_output=True, cwd=base,
            )
        # Settings on the command line so a changed LOCAL_PG_PORT just works on restart.
        options = (f"-p {port()} -c listen_addresses=127.0.0.1 -k {base} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        started = subprocess.run(
            _as_server_user([_bin("pg_ctl"), "start", "-D", str(data), "-l", str(log),
                             "-w", "-t", str(READY_TIMEOUT_S), "-o", options]),
            capture_output=True, text=True, cwd=base, stdin=subprocess.DEVNULL,
        )
        if started.returncode != 0 or not server_ready("127.0.0.1", port()):
            raise RuntimeError(
                f"PostgreSQL did not start on 127.0.0.1:{port()} within {READY_TIMEOUT_S}s: "
                f"{started.stderr.strip()}\nsee {log}:\n{tail(log)}"
            )
    return admin_url()


def stop_postgres() -> bool:
    """Stop the server in our data dir (pg_ctl stop -m fast); False if it was not running."""
    data = base_dir() / "data"
    if not (data / "postmaster.pid").exists():
        return False
    stopped = subprocess.run(
        _as_server_user([_bin("pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-w"]),
        capture_output=True, cwd=data.parent,
    )
    return stopped.returncode == 0


def database_url(admin_url: str, name: str) -> str:
    """The SQLAlchemy/asyncpg URL of database `name` on the admin URL's server."""
    parts = urlsplit(admin_url)
    return urlunsplit(("postgresql+asyncpg", parts.netloc, f"/{name}", parts.query, ""))


async def create_database(admin_url: str, name: str, *, drop_existing: bool = False) -> str:
    """Create database `name` unless it exists (recreate it if drop_existing); return its URL."""
    quoted = '"' + name.replace('"', '""') + '"'
    conn = await asyncpg.connect(admin_url)
    try:
        if drop_existing:
            await conn.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            # A concurrent caller may win the race between check and create: same outcome.
            with suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f"CREATE DATABASE {quoted}")
    finally:
        await conn.close()
    return database_url(admin_url, name)
