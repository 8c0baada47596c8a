#!/usr/bin/env python3
"""A small web-style application on a real pool library, for t/022.

    pool_app.py LIBRARY HOST PORT USER SETTINGS_JSON [WORKERS]

LIBRARY is psycopg_pool, sqlalchemy or pgbouncer (plain psycopg
connections to a PgBouncer at HOST:PORT).  SETTINGS_JSON is what
pool_governor.pool_config(tenant, LIBRARY) returned, as {setting: value},
applied as the library's own parameters.  WORKERS threads (4) each run
"requests" (take a connection, SELECT pg_sleep(0.1), give it back) until
standard input closes.  Every refusal the library reports (53300 or 57P03, in an
exception or in the library's own log) is printed as "refusal: <text>",
every other failure as "error: <text>"; at the end "summary ok=N errors=E".
"""
import json
import logging
import sys
import threading
import time

library, host, port, user, settings = sys.argv[1:6]
workers = int(sys.argv[6]) if len(sys.argv) > 6 else 4
settings = json.loads(settings)
app_name = "pool-" + library
stop = threading.Event()
lock = threading.Lock()
counts = {"ok": 0, "errors": 0}


def say(line):
    with lock:
        print(line.replace("\n", " | "), flush=True)


def failure(text):
    kind = "refusal" if ("53300" in text or "57P03" in text or "too many connections" in text
                         or "connection seat" in text) else "error"
    say("%s: %s" % (kind, text))


class Refusals(logging.Handler):
    """The library's own log: psycopg_pool logs failed connection attempts."""

    def emit(self, record):
        failure(record.getMessage())


logging.getLogger("psycopg.pool").addHandler(Refusals(logging.WARNING))
logging.getLogger("psycopg.pool").setLevel(logging.WARNING)

conninfo = "host=%s port=%s user=%s dbname=postgres application_name=%s" % (
    host, port, user, app_name)

if library == "psycopg_pool":
    from psycopg_pool import ConnectionPool

    pool = ConnectionPool(
        conninfo + " connect_timeout=%s" % settings["connect_timeout"],
        min_size=int(settings["min_size"]), max_size=int(settings["max_size"]),
        timeout=float(settings["timeout"]), max_waiting=int(settings["max_waiting"]),
        max_idle=float(settings["max_idle"]),
        reconnect_timeout=float(settings["reconnect_timeout"]), name=app_name)
    pool.wait(timeout=30)

    def request():
        with pool.connection() as conn:
            conn.execute("SELECT pg_sleep(0.1)")
elif library == "sqlalchemy":
    import sqlalchemy

    connect_args = json.loads(settings["connect_args"])
    connect_args["application_name"] = app_name
    url = sqlalchemy.engine.URL.create("postgresql+psycopg2", username=user, host=host,
                                       port=int(port), database="postgres")
    engine = sqlalchemy.create_engine(
        url,
        pool_size=int(settings["pool_size"]), max_overflow=int(settings["max_overflow"]),
        pool_timeout=float(settings["pool_timeout"]),
        pool_pre_ping=settings["pool_pre_ping"] == "True",
        pool_recycle=int(settings["pool_recycle"]), connect_args=connect_args)
    with engine.connect() as c:
        c.execute(sqlalchemy.text("SELECT 1"))

    def request():
        with engine.connect() as c:
            c.execute(sqlalchemy.text("SELECT pg_sleep(0.1)"))
elif library == "pgbouncer":
    import psycopg

    def request():
        with psycopg.connect("host=%s port=%s user=%s dbname=postgres" % (host, port, user),
                             autocommit=True) as conn:
            conn.execute("SELECT pg_sleep(0.1)")
else:
    sys.exit("unknown library " + library)


def worker():
    while not stop.is_set():
        try:
            request()
            with lock:
                counts["ok"] += 1
        except Exception as e:  # what the application sees
            with lock:
                counts["errors"] += 1
            failure("%s: %s" % (type(e).__name__, e))
            time.sleep(0.1)


threads = [threading.Thread(target=worker) for _ in range(workers)]
for t in threads:
    t.start()
say("ready")
sys.stdin.read()
stop.set()
for t in threads:
    t.join()
say("summary ok=%d errors=%d" % (counts["ok"], counts["errors"]))
