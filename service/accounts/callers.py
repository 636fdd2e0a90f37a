"""Who a bearer token belongs to, remembered by each process between requests.

Every request authenticates, and the query that does it is a third of a stall's confirmation:
not the work PostgreSQL does, but the round trip and the driver around it. So each process
remembers what the query found, token by token, and asks the database again only when something
the answer depends on may have changed:

* A trigger on ``api_tokens``, ``users``, ``agencies``, ``program`` (migration 0005) and ``regions``
  (0023: the caller's region's settings are part of what is remembered) sends
  ``NOTIFY rantang_callers`` whenever a row there changes, whoever changes it (the service, another
  process, an operator in psql). On Citus, which refuses such triggers, the service sends
  the notice itself when it commits a change there (``_gate_before_revoking``). Each process
  listens on a connection of its own, in a thread, and forgets everything when a notice comes:
  a revoked token is refused as soon as the notice arrives, about a millisecond after the
  revocation commits.
* A change made by this process is forgotten at its commit, without waiting for the notice.
* What a process remembers is at most ``CALLER_CACHE_SECONDS`` old (60 by default), even if a
  notice were lost; and while the listening connection is down, nothing is remembered at all.

A revocation (a token revoked, a user deactivated or changed) must hold everywhere by the time its
answer is sent, not a notice's delay later. Two advisory locks make a barrier:

* Each listener holds ``TRUSTING`` shared while it trusts what it remembers. At a notice it stops
  trusting, forgets, lets ``TRUSTING`` go, passes through ``GATE`` (shared), and takes
  ``TRUSTING`` again before it trusts anything (forgetting once more).
* The revoking request takes ``GATE`` exclusively before it commits (``_close_gate``), so that no
  listener can pass while it waits; after its commit it takes ``TRUSTING`` exclusively
  (``_open_gate``), which it gets only once every listener has let go, that is, has
  forgotten; then it opens the gate and answers.

A listener that raced ahead (at an earlier notice) meets the closed gate, or has let go already:
whatever it reads once through the gate was read after the commit.

Only PostgreSQL can send notices: on SQLite (one machine, for trying the service out) every
request asks the database, as does every process when ``CALLER_CACHE_SECONDS`` is 0.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Generic, TypeVar

from flask import Flask, current_app
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service.db import on_citus

log = logging.getLogger(__name__)

CHANNEL = "rantang_callers"
MAX_ENTRIES = 50_000  # tokens alive at once are far fewer; a bound against a flood of bad ones
RETRY_SECONDS = (1, 2, 5, 10, 30)  # waits between attempts to listen again
TRUSTING = 0x52414E47  # advisory locks of the barrier (above): "RANG"
GATE = 0x52414E48
BARRIER_WAIT = "5s"  # at most this long for every process to forget (a process stuck longer: logged)

T = TypeVar("T")


class CallerCache(Generic[T]):
    """Token hash -> what authentication found, while a listener keeps it honest."""

    def __init__(self, ttl: float, connect: Any = None) -> None:
        self.ttl = ttl
        self._connect = connect  # a fresh DBAPI connection to listen on (None: never remember)
        self._entries: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()
        self.generation = 0  # moves on every forget: what was read before it is not stored
        self.listening = False
        self._pid: int | None = None  # the listener belongs to the process that started it
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def get(self, key: str) -> T | None:
        self._ensure_listener()
        if not self.listening:
            return None
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, value: T, generation: int) -> None:
        """Remember ``value``, read from the database while ``generation`` was current: if anything
        was forgotten since, the value may be from before a change, and is not kept."""
        with self._lock:
            if not self.listening or generation != self.generation:
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.ttl, value)

    def forget(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def _ensure_listener(self) -> None:
        if self._connect is None or self._pid == os.getpid():
            return
        if self._pid is not None:
            # A forked worker inherits the parent's memory, not its threads: a lock the parent's
            # listener held at the fork would stay held here.
            self._lock = threading.Lock()
        with self._lock:
            if self._pid == os.getpid():
                return
            # This process's own listener, and nothing remembered by the parent.
            self._pid, self.listening = os.getpid(), False
            self._entries.clear()
            self._thread = threading.Thread(target=self._listen, name="caller-cache-listener", daemon=True)
            self._thread.start()

    def _listen(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                with self._connect() as conn:
                    conn.autocommit = True
                    conn.execute(f"LISTEN {CHANNEL}")
                    conn.execute("SELECT pg_advisory_lock_shared(%s)", (TRUSTING,))
                    self.forget()  # notices sent while nobody listened are lost: start empty
                    self.listening, failures = True, 0
                    while not self._stopping.is_set():
                        if any(True for _ in conn.notifies(timeout=30, stop_after=1)):
                            self._forget_behind_barrier(conn)
                        else:
                            conn.execute("SELECT 1")  # a dead connection fails here, not silently
            except Exception:  # noqa: BLE001 (any failure: stop trusting, then listen again)
                if not self._stopping.is_set():
                    log.warning("caller cache: not listening for changes; every request asks the database",
                                exc_info=True)
            finally:
                self.listening = False
                self.forget()
            self._stopping.wait(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
            failures += 1

    def _forget_behind_barrier(self, conn) -> None:
        """A change was committed: stop trusting, forget, let a revoker waiting for ``TRUSTING``
        go on, pass its ``GATE`` once it opens, and only then trust afresh."""
        self.listening = False
        self.forget()
        conn.execute("SELECT pg_advisory_unlock_shared(%s)", (TRUSTING,))
        conn.execute("SELECT pg_advisory_lock_shared(%s)", (GATE,))
        conn.execute("SELECT pg_advisory_unlock_shared(%s)", (GATE,))
        conn.execute("SELECT pg_advisory_lock_shared(%s)", (TRUSTING,))
        self.forget()
        self.listening = True

    def wait_listening(self, timeout: float) -> bool:
        """Start listening if not yet, and wait until it does (or ``timeout``): whether it does."""
        self._ensure_listener()
        deadline = time.monotonic() + timeout
        while self._connect is not None and not self.listening and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.listening

    def stop(self) -> None:
        """Stop listening (an app going away, as in tests): wake the listener with a notice."""
        self._stopping.set()
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        try:
            with self._connect() as conn:
                conn.autocommit = True
                conn.execute(f"NOTIFY {CHANNEL}")
        except Exception:  # noqa: BLE001 (the database is gone: the listener is not waiting on it)
            log.info("caller cache: no notice to wake the listener; it stops at its next wake-up")
        thread.join(timeout=5)


def init_app(app: Flask, db) -> None:
    """One cache per app (an app is one database), listening once the first request asks."""
    ttl = float(app.config["CALLER_CACHE_SECONDS"])
    connect = None
    if ttl > 0 and app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        def connect():
            with app.app_context():
                engine = db.engine
            args, kwargs = engine.dialect.create_connect_args(engine.url)
            return engine.dialect.loaded_dbapi.connect(*args, **kwargs)
    app.extensions["rantang_callers"] = CallerCache(ttl, connect)


def cache() -> CallerCache:
    return current_app.extensions["rantang_callers"]


def _close_gate(session: Session) -> None:
    """Before a revocation commits: take ``GATE`` on a connection of its own, kept until it is over."""
    held = session.get_bind().connect()
    try:
        held.exec_driver_sql(f"SELECT pg_advisory_lock({GATE})")
        held.commit()
    except Exception:
        held.invalidate()  # closed, with whatever it held
        held.close()
        raise
    session.info[_GATE_HELD] = held


def _open_gate(session: Session, wait: bool) -> None:
    """After the commit (``wait``): once every listener has forgotten, open the gate; after a
    rollback, open it at once."""
    held = session.info.pop(_GATE_HELD, None)
    if held is None:
        return
    try:
        if wait:
            held.exec_driver_sql(f"SET lock_timeout = '{BARRIER_WAIT}'")
            try:
                held.exec_driver_sql(f"SELECT pg_advisory_lock({TRUSTING})")
            except OperationalError:
                log.warning("caller cache: a process did not forget within %s; it forgets at its next notice",
                            BARRIER_WAIT, exc_info=True)
                held.invalidate()
                return
        held.invalidate()  # the connection goes with both locks: nothing of the barrier stays in the pool
    finally:
        held.close()


# What a caller's answer depends on (migration 0005 watches the same tables); a change made in a
# session is forgotten when the session commits. A note left by a rolled-back change only costs
# the next request one query.
WATCHED_TABLES = frozenset({"api_tokens", "users", "agencies", "program", "regions"})  # + 0023's trigger
# Changes to these take a caller's rights away (a token revoked, a user deactivated or moved): the
# committing request waits until every process has forgotten (the barrier above).
REVOKING_TABLES = frozenset({"api_tokens", "users", "agencies"})
_CHANGED = "callers_changed"
_REVOKED = "callers_revoked"
_GATE_HELD = "callers_gate"


def _note(session: Session, table: str | None) -> None:
    if table in WATCHED_TABLES:
        session.info[_CHANGED] = True
        if table in REVOKING_TABLES:
            session.info[_REVOKED] = True


@event.listens_for(Session, "after_flush")
def _note_flushed(session: Session, context) -> None:
    for instance in (*session.dirty, *session.deleted):
        _note(session, getattr(instance, "__tablename__", None))


@event.listens_for(Session, "do_orm_execute")
def _note_statements(state) -> None:
    """UPDATE and DELETE statements on a watched table, which no flush sees."""
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        _note(state.session, state.bind_mapper.local_table.name)


def _real_commit(session: Session) -> bool:
    """Whether this session's commit is seen by others: not when it is joined to a transaction
    someone else commits (tests), and only where processes remember callers."""
    bind = session.get_bind()
    try:
        remembering = cache()._connect is not None
    except RuntimeError:  # outside an app context: no cache
        return False
    return remembering and not (isinstance(bind, Connection) and bind.in_transaction())


@event.listens_for(Session, "before_commit")
def _gate_before_revoking(session: Session) -> None:
    if session.info.get(_CHANGED) and on_citus(session.connection()):
        # Citus refuses migration 0005's triggers (0021 drops them): the service says it itself.
        # A change made there outside the service (psql) is noticed within CALLER_CACHE_SECONDS.
        session.execute(text(f"NOTIFY {CHANNEL}"))
    if session.info.get(_REVOKED) and _real_commit(session):
        _close_gate(session)


@event.listens_for(Session, "after_commit")
def _forget_at_commit(session: Session) -> None:
    session.info.pop(_REVOKED, False)
    if session.info.pop(_CHANGED, False):
        try:
            cache().forget()
        except RuntimeError:  # outside an app context: no cache to forget
            pass
    _open_gate(session, wait=True)


@event.listens_for(Session, "after_rollback")
def _open_gate_after_rollback(session: Session) -> None:
    _open_gate(session, wait=False)
