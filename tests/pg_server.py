"""A throwaway PostgreSQL server for the tests that run the outbox on PostgreSQL.

The machine's own PostgreSQL binaries (Debian's postgresql package: `initdb`, `pg_ctl`) make
a cluster in a temporary folder that listens on a Unix socket inside it and on no TCP port,
so it meets nothing else on the machine. fsync is off: the tests ask for isolation and
locking, not durability. As root the server runs as the `postgres` user (it refuses root).
Each test gets a database of its own from `create_database`.
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
REQUIRED = bool(os.environ.get("CI"))


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here, or the server would not start."""


def server_binaries() -> Path:
    candidates = [os.environ.get("SERVICECOIN_PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)  # Debian's layout, newest first
    which = shutil.which("initdb")
    candidates += [str(Path(which).parent)] if which else []
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise PostgresUnavailable("no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql package")


class PostgresServer:
    def __init__(self) -> None:
        self.bin = server_binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="servicecoin-pg-"))
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self.folder.chmod(0o755)  # the socket must be reachable by this process's user
        self._names = itertools.count()

    def start(self) -> None:
        try:
            import psycopg  # noqa: F401 - the driver the outbox's URL names (pyproject's postgres extra)
        except ImportError:
            raise PostgresUnavailable("the psycopg driver is not installed (pip install '.[postgres]')") from None
        data = self.folder / "data"
        options = f"-c listen_addresses='' -k {self.folder} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        try:
            self._run(self.bin / "initdb", "-D", str(data), "--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
            self._run(self.bin / "pg_ctl", "-D", str(data), "-w", "-l", str(self.folder / "server.log"), "-o", options, "start")
        except PostgresUnavailable:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def stop(self) -> None:
        try:
            self._run(self.bin / "pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL (the psycopg 3 driver)."""
        import psycopg

        name = f"outbox_{next(self._names)}"
        with psycopg.connect(host=str(self.folder), user="postgres", dbname="postgres", autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return f"postgresql+psycopg://postgres@/{name}?host={self.folder}"

    def _run(self, *command: object) -> None:
        result = subprocess.run([*self._as_user, *map(str, command)], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise PostgresUnavailable(f"{' '.join(map(str, command))} failed: {result.stderr[-2000:]}{tail}")
