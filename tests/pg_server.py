"""A throwaway PostgreSQL server for the tests that run the outbox on PostgreSQL.

The machine's own PostgreSQL binaries (Debian's postgresql package: `initdb`, `pg_ctl`) make
a cluster in a temporary folder that listens on a Unix socket inside it and on no TCP port,
so it meets nothing else on the machine. fsync is off: the tests ask for isolation and
locking, not durability. As root the server runs as the `postgres` user (it refuses root).
Each test gets a database of its own from `create_database`, dropped by `drop_database`.

`pg_ctl start` detaches the server, so a test session killed outright would leave it running:
the folder records the session's pid, and the next session stops and removes clusters whose
session is gone.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

# The tests must not pass on a machine that cannot run them by skipping them unseen: under CI
# a missing server is an error (.ci/run installs it); elsewhere the tests skip and say why.
REQUIRED = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
PREFIX = "servicecoin-pg-"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries or driver here, or the server would not start."""


def end_submitter_lock_connections(url: str) -> None:
    """Ends the connections holding a submitter lock, as a server restart or a failover would."""
    from sqlalchemy import create_engine

    with create_engine(url).connect() as admin:
        admin.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE application_name LIKE 'servicecoin submitter%%'")


def server_binaries() -> Path:
    candidates = [os.environ.get("SERVICECOIN_PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)  # Debian's layout, newest first
    which = shutil.which("initdb")
    candidates += [str(Path(which).parent)] if which else []
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise PostgresUnavailable("no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql package")


def _run_as_server_user() -> tuple[list[str], pwd.struct_passwd | None]:
    if os.geteuid() != 0:
        return [], None
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable("running as root, and there is no `postgres` user to run the server as") from None
    return ["runuser", "-u", "postgres", "--"], owner


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PostgresServer:
    def __init__(self) -> None:
        try:
            import psycopg  # noqa: F401 - the driver the outbox's URL names (pyproject's postgres extra)
        except ImportError:
            raise PostgresUnavailable("the psycopg driver is not installed (pip install '.[postgres]')") from None
        self.bin = server_binaries()
        self._as_user, self._owner = _run_as_server_user()
        self._names = itertools.count()
        self.folder = Path()

    def start(self) -> None:
        self._remove_abandoned_clusters()
        self.folder = Path(tempfile.mkdtemp(prefix=PREFIX))
        (self.folder / "session.pid").write_text(str(os.getpid()))
        if self._owner is not None:
            os.chown(self.folder, self._owner.pw_uid, self._owner.pw_gid)
        self.folder.chmod(0o755)  # the socket must be reachable by this process's user
        data = self.folder / "data"
        options = f"-c listen_addresses='' -k {self.folder} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        try:
            self._run(self.bin / "initdb", "-D", str(data), "--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
            self._run(self.bin / "pg_ctl", "-D", str(data), "-w", "-l", str(self.folder / "server.log"), "-o", options, "start")
        except PostgresUnavailable:
            self.stop()
            raise

    def stop(self) -> None:
        self._stop_cluster(self.folder)

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL (the psycopg 3 driver)."""
        name = f"outbox_{next(self._names)}"
        self._admin(f"CREATE DATABASE {name}")
        return f"postgresql+psycopg://postgres@/{name}?host={self.folder}"

    def drop_database(self, url: str) -> None:
        """Drops a database of `create_database`'s, closing whatever connections a test left."""
        name = url.split("@/", 1)[1].split("?", 1)[0]
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(host=str(self.folder), user="postgres", dbname="postgres", autocommit=True) as connection:
            connection.execute(statement)

    def _stop_cluster(self, folder: Path) -> None:
        if folder == Path():
            return  # never started
        if (folder / "data" / "postmaster.pid").exists():
            subprocess.run([*self._as_user, str(self.bin / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate",
                            "-w", "stop"], capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)

    def _remove_abandoned_clusters(self) -> None:
        for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
            try:
                session = int((folder / "session.pid").read_text())
            except (OSError, ValueError):
                continue  # not one of ours, or being made right now
            if not _alive(session):
                self._stop_cluster(folder)

    def _run(self, *command: object) -> None:
        try:
            result = subprocess.run([*self._as_user, *map(str, command)], capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            raise PostgresUnavailable(f"{' '.join(map(str, command))} did not finish in 120 s") from None
        if result.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise PostgresUnavailable(f"{' '.join(map(str, command))} failed: {result.stderr[-2000:]}{tail}")
