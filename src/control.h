/*-------------------------------------------------------------------------
 *
 * control.h
 *		The governor's control block in shared memory: the worker's
 *		handshake (its pid and latch), reload() tickets, the flag a
 *		committed change raises, what the worker found of its database, why
 *		health is not ok (the tables' problem and each role's fit), the
 *		node name the numbers in force were resolved for, the worker's
 *		progress counters and its lease for the cluster quota.
 *
 * control.c is the only code that touches these fields and the only taker
 * of the control lock.  It is a region of its own so that the seat board's
 * lock, which every login takes EXCLUSIVE, guards seats alone: a committing
 * configuration write, a reload() or the worker's handshake never waits
 * for logins, nor logins for them.
 *
 * Locking protocol
 * ----------------
 * The control lock guards every field but the progress counters, which are
 * atomics, and the worker's PGPROC, which pgov_nudge_worker reads without
 * it (a stale one only gets a latch set that nobody waits on).  It is never held while another of pool_governor's locks is
 * taken, and nothing under it allocates, reads a catalog or sleeps.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_CONTROL_H
#define PGOV_CONTROL_H

#include "postgres.h"

#include "storage/lwlock.h"

#include "configuration.h"

/* What the worker found of pool_governor.database. */
typedef enum PgovDbState
{
	PGOV_DB_UNKNOWN = 0,
	PGOV_DB_READY,
	PGOV_DB_MISSING
} PgovDbState;

/* What health reads of the control block, for the role in force. */
typedef struct PgovControlState
{
	int			worker_pid;
	PgovProblemLevel level;
	char		problem[PGOV_PROBLEM_LEN];
	char		node_name[NAMEDATALEN]; /* the numbers were resolved for */
} PgovControlState;

/* The cluster quota's side of this node, as the worker last left it. */
typedef struct PgovClusterNode
{
	bool		on;				/* pool_governor.etcd_endpoints is set */
	bool		reachable;		/* etcd answered the last request */
	int64		lease;			/* this node's lease in etcd; 0 = none */
	TimestampTz lease_until;	/* it uses its grants until then */
	TimestampTz last_renewal;	/* when the last renewal that held was sent */
	char		problem[PGOV_PROBLEM_LEN];	/* why it holds no lease, or "" */
} PgovClusterNode;

/* Shared memory */
extern Size pgov_control_shmem_size(void);
extern void pgov_control_attach(void *base, LWLock *lock, bool init);

/* Why health is not ok, and the node the numbers were resolved for */
extern bool pgov_set_problem(PgovProblemLevel level, const char *problem);
extern bool pgov_set_fit(const PgovConfig *cfg, int role);
extern void pgov_set_node_name(const char *node_name);
extern void pgov_control_node_name(char *buf);
extern void pgov_control_state(int role, PgovControlState *out);
extern void pgov_set_cluster_node(const PgovClusterNode *node);
extern void pgov_cluster_node(PgovClusterNode *out);

/* reload() and the worker */
extern uint64 pgov_request_load(void);
extern uint64 pgov_load_begin(void);
extern void pgov_load_end(uint64 ticket, bool ok, const char *problem);
extern bool pgov_wait_load(uint64 ticket, int timeout_ms, bool *ok,
						   char *problem);
extern bool pgov_load_wanted(void);
extern void pgov_wake_worker(void);
extern void pgov_nudge_worker(void);

/* The worker */
extern void pgov_worker_attach(void);
extern void pgov_worker_detach(void);
extern PgovDbState pgov_db_state(void);
extern int	pgov_db_note(PgovDbState state);
extern void pgov_worker_progress(bool tick, bool load);
extern void pgov_worker_counts(int *pid, uint64 *ticks, uint64 *loads);

#endif							/* PGOV_CONTROL_H */
