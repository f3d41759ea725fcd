"""Create and drop the benchmark's own database on the server DATABASE_URL points at."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def url_with_database(url: str, database: str) -> str:
    """The same server, user and options (e.g. ``?host=/socket/dir``), another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True, connect_timeout=10)


def create_database(server_url: str, database: str) -> None:
    """Create ``database`` fresh. A leftover from a crashed run is dropped; one in use is left alone."""
    with _admin(server_url) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database]
            ).fetchone()
            if row and row[0]:
                raise RuntimeError(
                    f"database {database!r} exists and has {row[0]} connection(s): is another benchmark running?"
                )
            conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(database)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def drop_database(server_url: str, database: str) -> None:
    with _admin(server_url) as conn:
        version = conn.info.server_version
        force = sql.SQL(" WITH (FORCE)") if version >= 130000 else sql.SQL("")
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}{}").format(sql.Identifier(database), force))


def server_version(server_url: str) -> str:
    with _admin(server_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "unknown"
