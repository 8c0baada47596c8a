/*-------------------------------------------------------------------------
 *
 * events.c
 *		Owner of the event ring (events.h has the locking protocol).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdarg.h>

#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "events.h"
#include "settings.h"

typedef struct EventsShared
{
	LWLock	   *lock;
	uint64		written;		/* events ever added */
} EventsShared;

static EventsShared *es = NULL;
static PgovEvent *ring = NULL;	/* [pgov_event_log_size] */

Size
pgov_events_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(EventsShared)),
					MAXALIGN(mul_size(pgov_event_log_size, sizeof(PgovEvent))));
}

void
pgov_events_attach(void *base, LWLock *lock, bool init)
{
	es = (EventsShared *) base;
	ring = (PgovEvent *) ((char *) base + MAXALIGN(sizeof(EventsShared)));
	if (init)
	{
		es->lock = lock;
		es->written = 0;
	}
}

/*
 * Appends to the ring.  The detail is formatted before the lock is taken;
 * the copy under it is O(1).  Must not be called holding another lock of
 * pool_governor's.
 */
void
pgov_event_add(PgovEventKind kind, const char *tenant, const PgovWho *who,
			   const char *fmt,...)
{
	PgovEvent	ev;
	va_list		args;

	if (es == NULL || pgov_event_log_size <= 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.time = GetCurrentTimestamp();
	ev.kind = kind;
	if (tenant)
		strlcpy(ev.tenant, tenant, NAMEDATALEN);
	if (who)
	{
		ev.has_who = true;
		ev.who = *who;
	}
	va_start(args, fmt);
	vsnprintf(ev.detail, sizeof(ev.detail), fmt, args);
	va_end(args);

	LWLockAcquire(es->lock, LW_EXCLUSIVE);
	ring[es->written % pgov_event_log_size] = ev;
	es->written++;
	LWLockRelease(es->lock);
}

/* Copies the ring, oldest first, into out[pgov_event_log_size]; returns how
 * many events it holds. */
int
pgov_events_copy(PgovEvent *out)
{
	uint64		first;
	uint64		k;
	int			n = 0;

	if (es == NULL || pgov_event_log_size <= 0)
		return 0;
	LWLockAcquire(es->lock, LW_SHARED);
	first = es->written > (uint64) pgov_event_log_size ?
		es->written - pgov_event_log_size : 0;
	for (k = first; k < es->written; k++)
		out[n++] = ring[k % pgov_event_log_size];
	LWLockRelease(es->lock);
	return n;
}

const char *
pgov_event_kind_name(PgovEventKind kind)
{
	switch (kind)
	{
		case PGOV_EV_REFUSED:
			return "refused";
		case PGOV_EV_WAIT_TIMEOUT:
			return "wait timeout";
		case PGOV_EV_ADMITTED_AFTER_WAIT:
			return "admitted after wait";
		case PGOV_EV_WOULD_REFUSE:
			return "would refuse";
		case PGOV_EV_CONFIG_LOADED:
			return "config loaded";
		case PGOV_EV_CONFIG_REFUSED:
			return "config refused";
		case PGOV_EV_SLOT_RECLAIMED:
			return "slot reclaimed";
		case PGOV_EV_WAIT_ABANDONED:
			return "wait abandoned";
		case PGOV_EV_ADOPTED:
			return "sessions adopted";
		case PGOV_EV_DRAINED:
			return "idle session ended";
		case PGOV_EV_ROLE:
			return "role changed";
		case PGOV_EV_EXEMPTION:
			return "exemption changed";
		case PGOV_EV_GRANT_GREW:
			return "grant grew";
		case PGOV_EV_GRANT_SHRANK:
			return "grant shrank";
		case PGOV_EV_LEASE_LOST:
			return "lease lost";
		case PGOV_EV_ETCD_UNREACHABLE:
			return "etcd unreachable";
		case PGOV_EV_ETCD_BACK:
			return "etcd back";
	}
	return "unknown";
}
