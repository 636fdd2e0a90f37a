"""How the service holds its database connections: SQLite's pragmas and transactions, pooled
PostgreSQL connections that died while idle, and what counts as the database being unavailable.

* **A restart while idle.** When PostgreSQL restarts (or a proxy or firewall drops idle
  connections), every connection in a process's pool is dead, and the next request on each would
  fail. Pinging at every checkout (``pool_pre_ping``) costs every request a round trip; instead a
  checkout asks the operating system whether the server has written to the idle socket: a healthy
  idle connection has nothing to read, a closed one has its end-of-file (or the server's farewell)
  waiting. One ``poll()`` with no wait, a few microseconds. A stale connection is replaced at once,
  so the first request after a restart succeeds.
* **SQLite** has one writer at a time. A transaction that begins by reading and then writes, while
  another has written meanwhile, is refused at once ("database is locked"), not made to wait. So
  transactions begin with the write lock (``BEGIN IMMEDIATE``): a second writer waits its turn for
  up to ``SQLITE_BUSY_TIMEOUT`` seconds. Read-only work (GET requests) asks for
  ``BEGIN_DEFERRED`` and reads beside the writer.
* While the database cannot be reached (or a SQLite writer held the lock past the timeout),
  :func:`unavailable` says so, and the HTTP layer answers 503 with ``Retry-After``.
"""
from __future__ import annotations

import select
import sqlite3

from psycopg import pq
from sqlalchemy import Engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import Pool

# An execution option: on SQLite, begin without the write lock (reads; a test's outer transaction).
BEGIN_DEFERRED = "rantang_begin_deferred"


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, connection_record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        # Let SQLAlchemy, not the driver, begin transactions, so SAVEPOINTs and DDL work as on
        # PostgreSQL; enforce foreign keys; let readers and a writer work side by side.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        deferred = connection.get_execution_options().get(BEGIN_DEFERRED, False)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def _closed_by_server(dbapi_connection) -> bool:
    """Whether an idle PostgreSQL connection was closed at the other end (or the server spoke on
    it unasked, which on an idle pooled connection is only ever a goodbye)."""
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None:  # not psycopg: nothing to ask
        return False
    if dbapi_connection.closed or pgconn.status != pq.ConnStatus.OK:
        return True
    try:
        fd = pgconn.socket
    except Exception:  # noqa: BLE001 (psycopg raises when the connection has no socket any more)
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


@event.listens_for(Pool, "checkout")
def _replace_stale(dbapi_connection, connection_record, connection_proxy) -> None:
    if _closed_by_server(dbapi_connection):
        # The pool discards this connection and checks out a new one (a few times, then the
        # connection error reaches the request as "unavailable").
        raise sa_exc.DisconnectionError("the server closed this connection while it sat in the pool")


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot serve now (down, restarting, unreachable, out
    of connections, or a SQLite writer holding the lock too long), rather than a fault in the
    request: worth a retry in a few seconds."""
    if isinstance(error, sa_exc.TimeoutError):  # no connection free in the pool in time
        return True
    if isinstance(error, sa_exc.DBAPIError):
        return error.connection_invalidated or isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError))
    return False
