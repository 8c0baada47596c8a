/*-------------------------------------------------------------------------
 *
 * etcdmsg.h
 *		The cluster quota's pure side: the keys it keeps in etcd, the JSON
 *		its worker sends to etcd's gateway and reads back, and the
 *		arithmetic of a node's grant.  No PostgreSQL header and no I/O, so
 *		the unit tests build it alone; cluster.c does the talking.
 *
 * Keys, under pool_governor.cluster_name (C), for tenant T and node N (each
 * with '%' and '/' percent-encoded, so that no name can reach into
 * another's keys):
 *		C/quota/T/rev		bumped by every change of a grant of T: each
 *							change is one transaction conditioned on its
 *							revision, so grants never sum above the quota
 *		C/quota/T/grant/N	N's grant of T, attached to N's lease
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_ETCDMSG_H
#define PGOV_ETCDMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest key: a cluster name, two encoded names of 63 bytes, the rest. */
#define PGOV_ETCD_KEY_LEN 512

/* --- base64, as etcd's gateway carries keys and values --- */
extern size_t pgov_b64_encode(const void *src, size_t len, char *dst, size_t dstlen);
extern int	pgov_b64_decode(const char *src, char *dst, size_t dstlen);

/* --- reading JSON ---
 * A path is names and array indexes joined by '.': "result.TTL",
 * "kvs.0.key".  The value is copied as text (a string unescaped, anything
 * else as written); false when absent, malformed or longer than outlen. */
extern bool pgov_json_get(const char *json, const char *path, char *out,
						  size_t outlen);
extern int	pgov_json_count(const char *json, const char *path);

/* --- pool_governor.etcd_endpoints --- */
extern int	pgov_etcd_endpoint(const char *list, int i, const char **start,
							   size_t *len);

/* --- keys --- */
typedef enum PgovEtcdKey
{
	PGOV_KEY_TENANT,			/* C/quota/T/: every key of the tenant */
	PGOV_KEY_REV,				/* C/quota/T/rev */
	PGOV_KEY_GRANT				/* C/quota/T/grant/N */
} PgovEtcdKey;

extern bool pgov_etcd_key(char *out, size_t outlen, PgovEtcdKey kind,
						  const char *cluster, const char *tenant,
						  const char *node);

/* --- requests (JSON bodies) --- */
extern bool pgov_etcd_grant_body(char *out, size_t outlen, int ttl_s);
extern bool pgov_etcd_keepalive_body(char *out, size_t outlen, int64_t lease);
extern bool pgov_etcd_range_body(char *out, size_t outlen, const char *cluster,
								 const char *tenant);
extern bool pgov_etcd_txn_body(char *out, size_t outlen, const char *cluster,
							   const char *tenant, const char *node,
							   int64_t rev_mod, int grant, int64_t lease);

/* --- responses --- */
extern bool pgov_etcd_read_grant(const char *json, int64_t *lease, int *ttl_s);
extern int	pgov_etcd_read_keepalive(const char *json);

/* What a range over a tenant's keys said. */
typedef struct PgovEtcdTenant
{
	int64_t		rev_mod;		/* the rev key's mod_revision; 0 = none */
	int			mine;			/* this node's grant there */
	int			others;			/* the other nodes' grants, summed */
	int			nodes;			/* nodes holding a grant */
} PgovEtcdTenant;

extern bool pgov_etcd_read_range(const char *json, const char *cluster,
								 const char *tenant, const char *node,
								 PgovEtcdTenant *out);
extern bool pgov_etcd_read_txn(const char *json, bool *succeeded);
extern bool pgov_etcd_all_body(char *out, size_t outlen, const char *cluster);
extern int	pgov_etcd_my_tenants(const char *json, const char *cluster,
								 const char *node, char (*tenants)[64], int max);
extern bool pgov_etcd_delete_body(char *out, size_t outlen, const char *cluster,
								  const char *tenant, const char *node);

/* --- a node's grant --- */
extern int	pgov_grant_want(int floor, int connected, int waiting, int cap);
extern int	pgov_grant_next(int want, int quota, int floors, int others);

#endif							/* PGOV_ETCDMSG_H */
