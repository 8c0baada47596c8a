/*-------------------------------------------------------------------------
 *
 * events.h
 *		The event ring: the last pool_governor.event_log_size admission and
 *		configuration events of every tenant, a log to read.  Shared and
 *		bounded: health never reads it (board.c counts each tenant's own).
 *
 * Locking protocol (events.c, the only code that touches the ring): its
 * lock guards the ring and its write count.  An event's text is formatted
 * before the lock is taken; the copy under it is O(1); readers copy the
 * ring under it SHARED and build their rows after.  It is never taken while
 * another lock of pool_governor's is held.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_EVENTS_H
#define PGOV_EVENTS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/lwlock.h"

#include "seats.h"

typedef enum PgovEventKind
{
	PGOV_EV_REFUSED,
	PGOV_EV_WAIT_TIMEOUT,
	PGOV_EV_ADMITTED_AFTER_WAIT,
	PGOV_EV_WOULD_REFUSE,
	PGOV_EV_CONFIG_LOADED,
	PGOV_EV_CONFIG_REFUSED,
	PGOV_EV_SLOT_RECLAIMED,
	PGOV_EV_WAIT_ABANDONED,
	PGOV_EV_ADOPTED,
	PGOV_EV_DRAINED,
	PGOV_EV_ROLE,				/* this node's role changed */
	PGOV_EV_EXEMPTION,			/* sessions moved in or out of exemption */
	PGOV_EV_GRANT_GREW,			/* etcd granted this node more of a quota */
	PGOV_EV_GRANT_SHRANK,		/* this node gave seats back */
	PGOV_EV_LEASE_LOST,			/* its grants lapsed or etcd dropped them */
	PGOV_EV_ETCD_UNREACHABLE,
	PGOV_EV_ETCD_BACK
} PgovEventKind;

#define PGOV_DETAIL_LEN 160

typedef struct PgovEvent
{
	TimestampTz time;
	PgovEventKind kind;
	char		tenant[NAMEDATALEN];
	bool		has_who;
	PgovWho		who;
	char		detail[PGOV_DETAIL_LEN];
} PgovEvent;

extern Size pgov_events_shmem_size(void);
extern void pgov_events_attach(void *base, LWLock *lock, bool init);
extern void pgov_event_add(PgovEventKind kind, const char *tenant,
						   const PgovWho *who, const char *fmt,...)
			pg_attribute_printf(4, 5);
extern int	pgov_events_copy(PgovEvent *out);
extern const char *pgov_event_kind_name(PgovEventKind kind);

#endif							/* PGOV_EVENTS_H */
