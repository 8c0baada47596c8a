#!/usr/bin/env python3
"""bench/cluster_quota.py: three designs for "the shop may hold 40 connections
in the whole cluster", simulated on the founding case spread over a Patroni
cluster (docs/cluster-quota.md).

A primary and two standbys.  The shop's demand (connections it wants open)
is 10 at rest and 44 in a flash sale (t = 60 s to 240 s), more than
the quota, so the quota must bind somewhere, 30% of it writes
(primary) and 70% reads, split 60/40 between the two standbys by the load
balancer.  At t = 150 s the primary dies; Patroni promotes standby s1 at
t = 160 s (the leader key's TTL); the writes fail meanwhile (not a
governor's refusal), then go to s1, and the reads of s1 go to s2 (the old
primary is gone for the rest of the run).  From t = 100 s to 130 s s2 is
cut off from the primary (it still serves its clients).  Every 0.1 s each
node admits what its design lets it, and the simulation counts:

  refused      connection-seconds of demand a node refused (a governor's
               refusal, not a dead node's)
  over         connection-seconds above the quota of 40, cluster-wide
  idle granted connection-seconds a node was allowed but did not use (seats
               the others could have had)

Designs:
  static     a fixed per-node budget: 12 on the primary, 14 on each standby
             (node_limits; after the promotion s1 has the primary's 12)
  central    every login asks the primary; one counter, exact; a node that
             cannot reach it (partitioned, or no primary) refuses (closed)
             or admits on its own (open)
  leases     the primary leases seats to each node for 5 s, sized to the
             node's demand at renewal (a floor of 2, never below what it
             holds), never more than 40 in all; a node that cannot renew
             keeps its lease until it expires, then falls back to its
             static budget within what no lease holds; a new primary grants
             nothing for one lease period

Usage: bench/cluster_quota.py          (deterministic: the same table every run)
       bench/cluster_quota.py --live   the prediction for bench/cluster_quota_live
"""
import random

QUOTA = 40
DT = 0.1
END = 300.0
FAILOVER_AT, PROMOTED_AT = 150.0, 160.0
PARTITION = (100.0, 130.0)
LEASE = 5.0
STATIC = {"p": 12, "s1": 14, "s2": 14}


def demand(t, rng):
    """What each node's clients want at t: {node: connections}."""
    total = 44 if 60 <= t < 240 else 10
    total = max(0, total + rng.choice((-2, -1, 0, 0, 1, 2)))
    writes, reads = 0.3 * total, 0.7 * total
    if t < FAILOVER_AT:
        return {"p": round(writes), "s1": round(0.6 * reads), "s2": round(0.4 * reads)}
    if t < PROMOTED_AT:  # no primary: writes fail, reads as before
        return {"p": 0, "s1": round(0.6 * reads), "s2": round(0.4 * reads)}
    return {"p": 0, "s1": round(writes), "s2": round(reads)}


def primary(t):
    return "p" if t < FAILOVER_AT else (None if t < PROMOTED_AT else "s1")


def reachable(node, t):
    """Can node reach the primary at t?"""
    pr = primary(t)
    if pr is None:
        return False
    if node == pr:
        return True
    return not (node == "s2" and PARTITION[0] <= t < PARTITION[1])


def budgets_static(t):
    b = dict(STATIC)
    if t >= PROMOTED_AT:  # the promoted node takes the primary's numbers
        b["s1"] = STATIC["p"]
    return b


def least_refusals():
    """The refusals no design can avoid: demand above the quota."""
    rng = random.Random(42)
    t, r = 0.0, 0.0
    while t < END:
        r += max(0, sum(demand(t, rng).values()) - QUOTA) * DT
        t += DT
    return r


def run(design):
    rng = random.Random(42)
    held = {"p": 0, "s1": 0, "s2": 0}
    leases = {"p": (0, 0.0), "s1": (0, 0.0), "s2": (0, 0.0)}  # (seats, expires)
    grants_from = 0.0
    refused = over = idle = 0.0
    t = 0.0
    while t < END:
        want = demand(t, rng)
        if t >= FAILOVER_AT:
            held["p"] = 0  # the primary's sessions died with it
        if design == "leases":
            pr = primary(t)
            if t >= PROMOTED_AT and grants_from < PROMOTED_AT:
                grants_from = PROMOTED_AT + LEASE  # the new primary waits out old leases
            for n in held:
                seats, expires = leases[n]
                if pr is not None and reachable(n, t) and t >= expires - LEASE / 2 and t >= grants_from:
                    # what the others may hold: their leases, or their
                    # sessions where those outlast a shrunk lease
                    others = sum(max(held[m], s if e > t else 0)
                                 for m, (s, e) in leases.items() if m != n)
                    leases[n] = (max(held[n], min(max(2, want[n]), QUOTA - others)), t + LEASE)
        for n in held:
            if want[n] <= held[n]:
                held[n] = want[n]  # sessions leave
                cap = None
            elif design == "static":
                cap = budgets_static(t)[n]
            elif design.startswith("central"):
                # the primary's counter knows every node's sessions
                free = QUOTA - sum(held.values())
                if reachable(n, t):
                    cap = held[n] + max(0, free)
                elif design == "central-closed":
                    cap = held[n]  # cannot ask: refuse new logins
                else:
                    cap = QUOTA  # cannot ask: decide alone
            else:
                seats, expires = leases[n]
                if expires > t:
                    cap = seats
                else:
                    # expired: its static budget, within what no lease holds
                    unleased = QUOTA - sum(max(held[m], s if e > t else 0)
                                           for m, (s, e) in leases.items() if m != n)
                    cap = min(budgets_static(t)[n], max(0, unleased))
            if cap is not None:
                held[n] = min(want[n], max(held[n], cap))
                refused += (want[n] - held[n]) * DT
            if design == "static":
                idle += max(0, budgets_static(t)[n] - held[n]) * DT
            elif design == "leases":
                seats, expires = leases[n]
                idle += max(0, (seats if expires > t else 0) - held[n]) * DT
        over += max(0, sum(held.values()) - QUOTA) * DT
        t += DT
    return refused, over, idle


# --- The live timeline (bench/cluster_quota_live), compressed to a minute ---
#
# The same shop (quota 40) on a primary p and standbys s1, s2, as built in
# 1.7: each node admits its floor (4 each) and the seats etcd granted it;
# the worker passes every 0.2 s, asks when the tenant's logins wait (its
# sessions and waiting logins above the floor, and one seat more), gives
# back at each renewal (every TTL / 3) what no session uses, and a node that
# cannot renew stops using its grant at its last renewal + TTL - 1 s (etcd
# keeps it for the others until the last renewal + TTL).  Static: p 12,
# s1 14, s2 14.  Demand: p 3, s1 4, s2 3 at rest; a flash sale on s1 from
# 10 s to 40 s (s1 wants 38: 44 in all); s2 cut off from etcd from 20 s to
# 30 s; then s2 wants 20 from 45 s to 55 s.

LIVE_END = 60.0
LIVE_DT = 0.1
LIVE_TTL = 6.0
LIVE_PASS = 0.2
LIVE_FLOOR = 4
LIVE_CUT = (20.0, 30.0)


def live_demand(t):
    """What each node's clients want at t of the live timeline."""
    want = {"p": 3, "s1": 4, "s2": 3}
    if 10.0 <= t < 40.0:
        want["s1"] = 38
    if 45.0 <= t < 55.0:
        want["s2"] = 20
    return want


def live_run(design):
    """Refused, over and idle granted connection-seconds of the live
    timeline, predicted for design 'static' or 'leases'."""
    nodes = ("p", "s1", "s2")
    held = {n: 0 for n in nodes}
    grant = {n: 0 for n in nodes}          # what the node uses
    etcd = {n: (0, 0.0) for n in nodes}    # (grant, expires in etcd)
    until = {n: LIVE_TTL - 1 for n in nodes}
    renewed = {n: 0.0 for n in nodes}
    next_pass = 0.0
    refused = over = idle = 0.0
    steps = int(round(LIVE_END / LIVE_DT))
    for k in range(steps):
        t = k * LIVE_DT
        want = live_demand(t)
        if design == "leases" and t >= next_pass - 1e-9:
            next_pass += LIVE_PASS
            for n in nodes:
                cut = n == "s2" and LIVE_CUT[0] <= t < LIVE_CUT[1]
                if cut:
                    continue
                renewal = t >= renewed[n] + LIVE_TTL / 3 - 1e-9
                if renewal or until[n] <= t:
                    renewed[n] = t
                    until[n] = t + LIVE_TTL - 1
                    if etcd[n][1] <= t:  # lost while cut: a new lease
                        grant[n] = 0
                    etcd[n] = (etcd[n][0] if etcd[n][1] > t else 0, t + LIVE_TTL)
                need = want[n]          # sessions and waiting logins
                w = 0 if need == 0 else max(0, need + 1 - LIVE_FLOOR)
                others = sum(g for m, (g, e) in etcd.items() if m != n and e > t)
                nxt = min(w, max(0, QUOTA - 3 * LIVE_FLOOR - others))
                if nxt < grant[n] and not renewal:
                    continue
                nxt = max(nxt, min(grant[n], held[n] - LIVE_FLOOR)) if nxt < grant[n] else nxt
                grant[n] = nxt
                etcd[n] = (nxt, t + LIVE_TTL)
        for n in nodes:
            if design == "static":
                cap = {"p": 12, "s1": 14, "s2": 14}[n]
            else:
                cap = LIVE_FLOOR + (grant[n] if t < until[n] else 0)
            if want[n] <= held[n]:
                held[n] = want[n]
            else:
                held[n] = min(want[n], max(held[n], cap))
            refused += (want[n] - held[n]) * LIVE_DT
            idle += max(0, cap - held[n]) * LIVE_DT
        over += max(0, sum(held.values()) - QUOTA) * LIVE_DT
    return refused, over, idle


def live_least():
    """The live timeline's refusals no design can avoid."""
    steps = int(round(LIVE_END / LIVE_DT))
    return sum(max(0, sum(live_demand(k * LIVE_DT).values()) - QUOTA) * LIVE_DT
               for k in range(steps))


def main():
    rows = [("static per-node budget", "static"),
            ("central counter, closed", "central-closed"),
            ("central counter, open", "central-open"),
            ("leases from the primary", "leases")]
    print("| design | refused (conn-s) | over the quota (conn-s) | idle granted (conn-s) |")
    print("| --- | --- | --- | --- |")
    print("| (the least any design can refuse: demand above 40) | %.0f | | |" % least_refusals())
    for label, design in rows:
        r, o, i = run(design)
        print("| %s | %.0f | %.0f | %s |" % (label, r, o, "%.0f" % i if design in ("static", "leases") else "n/a"))


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["--live"]:
        print("| design (live timeline, predicted) | refused (conn-s) | over the quota (conn-s) | idle allowed (conn-s) |")
        print("| --- | --- | --- | --- |")
        print("| (the least any design can refuse: demand above 40) | %.0f | | |" % live_least())
        for label, design in (("static per-node budget", "static"), ("leases in etcd", "leases")):
            print("| %s | %.0f | %.0f | %.0f |" % ((label,) + live_run(design)))
    else:
        main()
