#!/usr/bin/python3
"""bench/cluster_quota_live.py: the cluster quota's live timeline on a real
cluster (run through bench/cluster_quota_live, as the postgres account).

A real etcd, a primary p and two pg_basebackup standbys s1 and s2, the shop
with a quota of 40 in the whole cluster.  The timeline is
bench/cluster_quota.py's live one (live_demand, LIVE_CUT): clients on each
node keep as many shop sessions open as the timeline wants, every 0.1 s
opening or closing the difference; s2 is cut off from etcd (its endpoints
point nowhere) from 20 s to 30 s.  Run twice, side by side in one run:

  static   pool_governor.etcd_endpoints empty, node_limits caps p 12,
           s1 14, s2 14 (the static split of 40)
  leases   the quota held with leases in etcd: floors of 4, caps of 40

Counted as the simulation counts: refused = the demand not held (logins
refused, or still waiting), over = held above 40, idle allowed = what a
node could have admitted but did not use.  Prints the measured table beside
the prediction (bench/cluster_quota.py --live).
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_quota as cq  # noqa: E402

NODES = ("p", "s1", "s2")
STATIC = {"p": 12, "s1": 14, "s2": 14}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)


class Cluster:
    def __init__(self, work, bindir):
        self.work, self.bindir = work, bindir
        self.port = {n: free_port() for n in NODES}
        self.etcd_port, peer = free_port(), free_port()
        self.etcd_url = "http://127.0.0.1:%d" % self.etcd_port
        self.dead_url = "http://127.0.0.1:%d" % free_port()
        self.etcd = subprocess.Popen(
            ["etcd", "--name", "e1", "--data-dir", work + "/etcd",
             "--listen-client-urls", self.etcd_url, "--advertise-client-urls", self.etcd_url,
             "--listen-peer-urls", "http://127.0.0.1:%d" % peer,
             "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % peer,
             "--initial-cluster", "e1=http://127.0.0.1:%d" % peer],
            stdout=open(work + "/etcd.log", "w"), stderr=subprocess.STDOUT)
        pg = lambda p: os.path.join(bindir, p)  # noqa: E731
        data = {n: "%s/%s" % (work, n) for n in NODES}
        run([pg("initdb"), "-D", data["p"], "-A", "trust", "-N", "-U", "postgres"])
        with open(data["p"] + "/postgresql.conf", "a") as f:
            f.write("""
shared_preload_libraries = 'pool_governor'
max_connections = 100
listen_addresses = '127.0.0.1'
unix_socket_directories = '%s'
wal_level = replica
fsync = off
pool_governor.sample_interval = '200ms'
pool_governor.refusal_pacing = 0
pool_governor.cluster_name = 'bench'
pool_governor.lease_ttl = '%ds'
""" % (work, int(cq.LIVE_TTL)))
        self.data = data
        self.start("p")
        self.sql("p", "CREATE EXTENSION pool_governor")
        self.sql("p", "CREATE ROLE shop LOGIN")
        self.sql("p", """INSERT INTO pool_governor.tenants
            (name, max_connections, max_waiting, wait_timeout, cluster_max_connections)
            VALUES ('shop', 40, 50, '1 s', %d)""" % cq.QUOTA)
        self.sql("p", "INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('shop', 'shop')")
        self.sql("p", """INSERT INTO pool_governor.node_limits
            (node, tenant, max_connections, reserved_connections, cluster_floor)
            VALUES %s""" % ", ".join("('%s', 'shop', 40, 0, %d)" % (n, cq.LIVE_FLOOR) for n in NODES))
        for n in ("s1", "s2"):
            run([pg("pg_basebackup"), "-D", data[n], "-h", work, "-p", str(self.port["p"]),
                 "-U", "postgres", "-R", "--checkpoint", "fast"])
            self.start(n)

    def start(self, n):
        with open(self.data[n] + "/postgresql.conf", "a") as f:
            f.write("\nport = %d\npool_governor.node_name = '%s'\n" % (self.port[n], n))
        run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data[n], "-w", "-l",
             self.data[n] + ".log", "start"])

    def conninfo(self, n, user="postgres"):
        return "host=127.0.0.1 port=%d dbname=postgres user=%s connect_timeout=10" % (self.port[n], user)

    def sql(self, n, q):
        with psycopg.connect(self.conninfo(n), autocommit=True) as c:
            cur = c.execute(q)
            return cur.fetchall() if cur.description else None

    def set_endpoints(self, n, url):
        self.sql(n, "ALTER SYSTEM SET pool_governor.etcd_endpoints = '%s'" % url)
        self.sql(n, "SELECT pg_reload_conf()")

    def wait(self, n, q, what, seconds=60):
        end = time.time() + seconds
        while time.time() < end:
            rows = self.sql(n, q)
            if rows and rows[0][0]:
                return
            time.sleep(0.1)
        raise SystemExit("bench: %s did not happen on %s" % (what, n))

    def stop(self):
        for n in NODES:
            subprocess.run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data[n], "-m", "fast",
                            "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.etcd.terminate()
        self.etcd.wait()


class Clients:
    """The shop's clients on one node: hold as many sessions as wanted."""

    def __init__(self, cluster, node):
        self.cluster, self.node = cluster, node
        self.held, self.inflight, self.lock = [], 0, threading.Lock()

    def _open(self):
        try:
            c = psycopg.connect(self.cluster.conninfo(self.node, "shop"), autocommit=True)
        except psycopg.OperationalError:
            c = None
        with self.lock:
            self.inflight -= 1
            if c is not None:
                self.held.append(c)

    def follow(self, want):
        with self.lock:
            extra = len(self.held) - want
            closing = [self.held.pop() for _ in range(max(0, extra))]
            start = max(0, want - len(self.held) - self.inflight)
            self.inflight += start
        for c in closing:
            c.close()
        for _ in range(start):
            threading.Thread(target=self._open, daemon=True).start()
        with self.lock:
            return len(self.held)

    def close_all(self):
        deadline = time.time() + 15
        while time.time() < deadline:
            with self.lock:
                if self.inflight == 0:
                    break
            time.sleep(0.05)
        with self.lock:
            for c in self.held:
                c.close()
            self.held = []


def measure(cluster, design):
    """The live timeline against the cluster as design configures it."""
    if design == "static":
        for n in NODES:
            cluster.set_endpoints(n, "")
        cluster.sql("p", "UPDATE pool_governor.node_limits SET max_connections = CASE node %s END"
                    % " ".join("WHEN '%s' THEN %d" % (n, STATIC[n]) for n in NODES))
        for n in NODES:
            cluster.wait(n, "SELECT allowed = %d FROM pool_governor.cluster_status" % STATIC[n],
                         "the static budget")
    else:
        cluster.sql("p", "UPDATE pool_governor.node_limits SET max_connections = 40")
        for n in NODES:
            cluster.set_endpoints(n, cluster.etcd_url)
        for n in NODES:
            cluster.wait(n, "SELECT lease_expires IS NOT NULL AND allowed = %d "
                         "FROM pool_governor.cluster_status" % cq.LIVE_FLOOR, "a lease")
    monitors = {n: psycopg.connect(cluster.conninfo(n), autocommit=True) for n in NODES}
    clients = {n: Clients(cluster, n) for n in NODES}
    refused = over = idle = 0.0
    most = 0
    cut = False
    start = time.time()
    steps = int(round(cq.LIVE_END / cq.LIVE_DT))
    for k in range(steps):
        t = k * cq.LIVE_DT
        while time.time() < start + t:
            time.sleep(0.005)
        if design == "leases" and not cut and cq.LIVE_CUT[0] <= t < cq.LIVE_CUT[1]:
            cluster.set_endpoints("s2", cluster.dead_url)
            cut = True
        elif cut and t >= cq.LIVE_CUT[1]:
            cluster.set_endpoints("s2", cluster.etcd_url)
            cut = False
        want = cq.live_demand(t)
        held = {n: clients[n].follow(want[n]) for n in NODES}
        for n in NODES:
            allowed = monitors[n].execute(
                "SELECT coalesce(allowed, 0) FROM pool_governor.cluster_status").fetchone()[0]
            refused += (want[n] - held[n]) * cq.LIVE_DT
            idle += max(0, allowed - held[n]) * cq.LIVE_DT
        connected = sum(monitors[n].execute(
            "SELECT connected FROM pool_governor.tenant_status WHERE tenant = 'shop'").fetchone()[0]
            for n in NODES)
        most = max(most, connected)
        over += max(0, connected - cq.QUOTA) * cq.LIVE_DT
    late = time.time() - (start + cq.LIVE_END)
    for n in NODES:
        clients[n].close_all()
        monitors[n].close()
    return refused, over, idle, most, late


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--bindir", required=True)
    args = ap.parse_args()
    shutil.rmtree(args.dir + "/cq", ignore_errors=True)
    os.makedirs(args.dir + "/cq")
    cluster = Cluster(args.dir + "/cq", args.bindir)
    try:
        rows = []
        for label, design in (("static per-node budget", "static"), ("leases in etcd", "leases")):
            r, o, i, most, late = measure(cluster, design)
            pr, po, pi = cq.live_run(design)
            rows.append((label, r, pr, o, po, i, pi, most, late))
    finally:
        cluster.stop()
    print("| design | refused, measured (conn-s) | predicted | over the quota, measured | predicted "
          "| idle allowed, measured | predicted | most held in the cluster | timeline late by (s) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("| (the least any design can refuse: demand above %d) | | %.0f | | | | | | |"
          % (cq.QUOTA, cq.live_least()))
    for label, r, pr, o, po, i, pi, most, late in rows:
        print("| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %d | %.2f |"
              % (label, r, pr, o, po, i, pi, most, late))


if __name__ == "__main__":
    main()
