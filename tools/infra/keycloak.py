"""A local Keycloak (OpenID Connect provider) from Maven Central: real tokens, no Docker.

The services check JWTs issued by an OIDC provider; the demo and the end-to-end tests
need a real one with the `loket` realm (deploy/keycloak/loket-realm.json). Like Kafka,
the distribution comes from Maven Central and its state lives under <repo>/.cache/.
Set OIDC_ISSUER to use an existing provider instead; nothing is started then.

    python -m tools.infra.keycloak up|down|status
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import httpx

from tools.infra.kafka import file_lock, require_executable, tail
from tools.infra.pids import live_pid, stop_started

REPO_ROOT = Path(__file__).resolve().parents[2]
POM = REPO_ROOT / "deploy/local/keycloak/pom.xml"
REALM_FILE = REPO_ROOT / "deploy/keycloak/loket-realm.json"
KC_DIR = REPO_ROOT / ".cache/keycloak"
SERVER_OUT = KC_DIR / "server.out"  # Keycloak logs to the console: this is its log
MARKER = b"QuarkusEntryPoint"  # in our process's command line
PID_FILE = KC_DIR / "keycloak.pid"
PORT = 8180
BASE_URL = f"http://127.0.0.1:{PORT}"
LOCAL_ISSUER = f"{BASE_URL}/realms/loket"
READY_TIMEOUT_S = 180.0  # first start augments the Quarkus build: ~70 s on 2 cores
REAUGMENTED = 10  # Quarkus exit code: "build updated, start me again"
ADD_OPENS = [f"--add-opens=java.base/{p}=ALL-UNNAMED"
             for p in ("java.util", "java.util.concurrent", "java.security", "java.lang")]


def version() -> str:
    match = re.search(r"<keycloak.version>([^<]+)<", POM.read_text())
    if match is None:
        raise RuntimeError(f"no <keycloak.version> in {POM}")
    return match.group(1)


def home() -> Path:
    """The unpacked distribution; a new version gets a new home (and a fresh database)."""
    return KC_DIR / f"keycloak-{version()}"


def keycloak_answers(issuer: str = LOCAL_ISSUER, timeout: float = 2.0) -> bool:
    """True if the issuer serves a discovery document naming itself."""
    try:
        response = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=timeout)
        return response.status_code == 200 and response.json().get("issuer") == issuer
    except (httpx.HTTPError, ValueError):
        return False


def running_keycloak_pid() -> int | None:
    """The pid of a Keycloak we started that is still alive, if any."""
    return live_pid(PID_FILE, MARKER)


def _realm_digest() -> str:
    return hashlib.sha256(REALM_FILE.read_bytes()).hexdigest()


def _stamp() -> Path:
    return home() / "data/import/realm.sha256"  # the realm file the database was built from


def _unpack() -> None:
    target = home()
    if (target / "lib/quarkus-run.jar").exists():
        return
    archive = KC_DIR / f"keycloak-quarkus-dist-{version()}.zip"
    if not archive.exists():
        mvn = require_executable("mvn", "Maven (apt-get install -y maven)")
        # An absolute outputDirectory: Maven resolves relative ones against the pom's folder.
        subprocess.run([mvn, "-q", "-B", "-f", str(POM), "dependency:copy",
                        f"-DoutputDirectory={KC_DIR}"], check=True)
    staging = KC_DIR / ".unpacking"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive) as dist:
        dist.extractall(staging)  # holds one folder, keycloak-<version>/
    (staging / target.name).rename(target)  # atomic: no half-unpacked home survives a crash
    staging.rmdir()


def _prepare_realm() -> None:
    """Put the realm file up for import; a changed file means a fresh dev database."""
    import_dir = home() / "data/import"
    if not _stamp().exists() or _stamp().read_text() != _realm_digest():
        shutil.rmtree(home() / "data/h2", ignore_errors=True)  # --import-realm skips existing
        _stamp().unlink(missing_ok=True)
    import_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REALM_FILE, import_dir / REALM_FILE.name)


def _command(java: str, built: bool) -> list[str]:
    """What bin/kc.sh start-dev runs, minus the shell wrapper: our pid is the JVM's."""
    kc_home = home()
    return [
        java, "-Xms64m", "-Xmx512m", "-XX:MetaspaceSize=96M", "-XX:MaxMetaspaceSize=256m",
        "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-Dfile.encoding=UTF-8",
        "-Djava.security.egd=file:/dev/urandom", *ADD_OPENS,
        "-Duser.language=en", "-Duser.country=US",
        "-Djava.util.concurrent.ForkJoinPool.common.threadFactory="
        "io.quarkus.bootstrap.forkjoin.QuarkusForkJoinWorkerThreadFactory",
        f"-Dkc.home.dir={kc_home}", f"-Djboss.server.config.dir={kc_home}/conf",
        "-Djava.util.logging.manager=org.jboss.logmanager.LogManager",
        "-Dpicocli.disable.closures=true", *(["-Dkc.config.built=true"] if built else []),
        "-cp", f"{kc_home}/lib/quarkus-run.jar", "io.quarkus.bootstrap.runner.QuarkusEntryPoint",
        # start-dev: dev-file (H2) database under <home>/data, plain HTTP.
        "start-dev", "--http-host=127.0.0.1", f"--http-port={PORT}",
        f"--hostname={BASE_URL}",  # a fixed issuer, whatever host name a client uses
        "--import-realm",
    ]


def _launch(java: str, built: bool) -> subprocess.Popen[bytes]:
    KC_DIR.mkdir(parents=True, exist_ok=True)
    with SERVER_OUT.open("ab" if built else "wb") as out:  # fresh per start; relaunch appends
        process = subprocess.Popen(
            _command(java, built), cwd=home(), stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # survives our exit and Ctrl-C in the caller's terminal
        )
    PID_FILE.write_text(str(process.pid))
    return process


def _start(java: str, timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    process = _launch(java, built=False)
    while not keycloak_answers():
        code = process.poll()
        if code == REAUGMENTED:  # first run (or changed build options): built, now start
            process = _launch(java, built=True)
            continue
        if code is not None:
            raise RuntimeError(
                f"Keycloak exited on startup (code {code}); see {SERVER_OUT}:\n{tail(SERVER_OUT)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Keycloak at {LOCAL_ISSUER} not ready after {timeout:.0f}s "
                               f"(still starting, pid {process.pid}); see {SERVER_OUT}:\n"
                               f"{tail(SERVER_OUT)}")
        time.sleep(0.5)
    _stamp().write_text(_realm_digest())
    # Reap it if it dies while we run, and keep Popen from warning that it outlived us.
    threading.Thread(target=process.wait, daemon=True).start()


def wait_for_keycloak(issuer: str, timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not keycloak_answers(issuer):
        if issuer == LOCAL_ISSUER and running_keycloak_pid() is None:
            raise RuntimeError(f"Keycloak is not running; see {SERVER_OUT}:\n{tail(SERVER_OUT)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"OIDC issuer {issuer} not answering after {timeout:.0f}s")
        time.sleep(0.5)


def ensure_keycloak() -> str:
    """Return the issuer URL of a ready provider, starting the local Keycloak if needed."""
    if external := os.environ.get("OIDC_ISSUER"):
        wait_for_keycloak(external.rstrip("/"))
        return external.rstrip("/")
    with file_lock(KC_DIR / ".lock"):
        stale = running_keycloak_pid() is not None and (
            not _stamp().exists() or _stamp().read_text() != _realm_digest())
        if stale and keycloak_answers():
            stop_keycloak()  # ours, but serving an older realm file
        if running_keycloak_pid() is None and not keycloak_answers():
            java = require_executable("java", "a Java 17+ runtime (openjdk-17-jre-headless)")
            _unpack()
            _prepare_realm()
            _start(java)
        else:
            wait_for_keycloak(LOCAL_ISSUER)
    return LOCAL_ISSUER


def stop_keycloak(timeout: float = 30.0) -> bool:
    """Stop the Keycloak this tooling started; False if there was none."""
    return stop_started(PID_FILE, MARKER, timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.infra.keycloak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status"])
    command = parser.parse_args(argv).command
    if command == "up":
        started = time.monotonic()
        print(f"OIDC_ISSUER={ensure_keycloak()}")
        print(f"ready in {time.monotonic() - started:.1f}s (log: {SERVER_OUT})")
    elif command == "down":
        print("keycloak:", "stopped" if stop_keycloak() else "not started by this tooling")
    else:
        issuer = os.environ.get("OIDC_ISSUER", LOCAL_ISSUER).rstrip("/")
        state = "up" if keycloak_answers(issuer) else "down"
        pid = PID_FILE.read_text().strip() if PID_FILE.exists() else "-"
        print(f"keycloak {issuer}: {state} (our pid: {pid}, log: {SERVER_OUT})")
        return 0 if state == "up" else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
