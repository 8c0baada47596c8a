#!/usr/bin/env python3
"""The founding case's flash sale, as a small web-style application on
psycopg_pool, for t/023.

    flash_sale.py HOST PORT USER SETTINGS_JSON SECONDS RATE

Requests arrive at RATE a second for SECONDS (evenly spaced, each served by
a thread of its own, as a web server's workers would); each takes a
connection from the pool (timeout: the pool's) and runs a query of 300 to
500 ms.  SETTINGS_JSON is psycopg_pool's settings as {setting: value}
(pool_governor.pool_config(tenant, 'psycopg_pool'), or the incident's).
Prints one JSON line: requests, errors (no connection within the pool's
timeout, or the queue full), p50/p95 of the request's whole time, and how
long the pool took to open its min_size connections.
"""
import json
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from psycopg_pool import ConnectionPool

host, port, user, settings, seconds, rate = sys.argv[1:7]
s = json.loads(settings)
seconds = float(seconds)
rate = float(rate)

started = time.monotonic()
pool = ConnectionPool(
    "host=%s port=%s user=%s dbname=postgres application_name=flash-sale connect_timeout=%s"
    % (host, port, user, s.get("connect_timeout", "10")),
    min_size=int(s.get("min_size", 4)), max_size=int(s.get("max_size", 4)),
    timeout=float(s.get("timeout", 30)), max_waiting=int(s.get("max_waiting", 0)),
    max_idle=float(s.get("max_idle", 600)),
    reconnect_timeout=float(s.get("reconnect_timeout", 300)), name="flash-sale")
pool.wait(timeout=30)
ready = time.monotonic() - started

lock = threading.Lock()
times = []
errors = {}
rng = random.Random(7)


def request(arrived, hold):
    try:
        with pool.connection() as conn:
            conn.execute("SELECT pg_sleep(%s)" % hold)
        with lock:
            times.append(time.monotonic() - arrived)
    except Exception as e:
        with lock:
            kind = type(e).__name__
            errors[kind] = errors.get(kind, 0) + 1


with ThreadPoolExecutor(max_workers=1000) as ex:
    begin = time.monotonic()
    n = int(seconds * rate)
    for i in range(n):
        due = begin + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        ex.submit(request, time.monotonic(), round(rng.uniform(0.3, 0.5), 3))
pool.close()
times.sort()
total = len(times) + sum(errors.values())


def q(p):
    return round(times[min(len(times) - 1, int(p * len(times)))], 3) if times else None


print(json.dumps({"requests": total, "ok": len(times), "errors": sum(errors.values()),
                  "error_kinds": errors, "p50_s": q(0.50), "p95_s": q(0.95),
                  "ready_s": round(ready, 3)}), flush=True)
