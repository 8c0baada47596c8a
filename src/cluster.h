/*-------------------------------------------------------------------------
 *
 * cluster.h
 *		The worker's side of the cluster quota (cluster.c): this node's
 *		lease and grants in etcd.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_CLUSTER_H
#define PGOV_CLUSTER_H

#include "postgres.h"

#include "datatype/timestamp.h"

extern void pgov_cluster_pass(void);
extern long pgov_cluster_sleep_ms(TimestampTz now);

#endif							/* PGOV_CLUSTER_H */
