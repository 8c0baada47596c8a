/*-------------------------------------------------------------------------
 *
 * snapformat.c
 *		Writes and checks the bytes of pool_governor.snapshot (snapformat.h
 *		has the layout).
 *
 * The checker trusts nothing in the file: the header's length must be the
 * file's, the counts must fit the length exactly, and every tenant name,
 * rule string and rule's tenant index must be in range before the loader
 * indexes anything with them.  The checksum is CRC-32C, the same as
 * PostgreSQL's pg_crc32c, computed here in plain C.
 *
 *-------------------------------------------------------------------------
 */
#include "snapformat.h"

#include <string.h>

/* Header fields by offset (snapformat.h). */
#define OFF_MAGIC		0
#define OFF_FORMAT		4
#define OFF_TSIZE		8
#define OFF_RSIZE		12
#define OFF_GENERATION	16
#define OFF_LENGTH		24
#define OFF_CRC			28

static uint32_t crc_table[256];
static int	crc_ready = 0;

static void
crc_init(void)
{
	uint32_t	i;

	for (i = 0; i < 256; i++)
	{
		uint32_t	c = i;
		int			k;

		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78 : c >> 1;
		crc_table[i] = c;
	}
	crc_ready = 1;
}

/*
 * CRC-32C (Castagnoli, reflected), continued from crc: start with
 * 0xFFFFFFFF and invert the result, as PostgreSQL's INIT_CRC32C and
 * FIN_CRC32C do.
 */
uint32_t
pgov_crc32c(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (!crc_ready)
		crc_init();
	while (len-- > 0)
		crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return crc;
}

static uint32_t
get32(const char *p)
{
	uint32_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void
put32(char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* The bytes of one tenant in a file of format. */
static size_t
tenant_size(uint32_t format)
{
	return format >= 5 ? sizeof(PgovTenantDef) :
		format >= 3 ? sizeof(PgovTenantDefV4) : sizeof(PgovTenantDefV2);
}

/* The bytes before the node_limits part (format 4), or all (before). */
static size_t
payload_size(uint32_t format, int ntenants, int nrules)
{
	return sizeof(PgovSnapHead) + tenant_size(format) * (size_t) ntenants +
		sizeof(PgovRule) * (size_t) nrules;
}

/* The node_limits part of format 4: its count, a zero, the rows. */
#define LIMITS_HEAD 8

static size_t
limits_size(int nlimits)
{
	return LIMITS_HEAD + sizeof(PgovNodeLimit) * (size_t) nlimits;
}

size_t
pgov_snap_payload_size(int ntenants, int nrules, int nlimits)
{
	return payload_size(PGOV_SNAP_FORMAT, ntenants, nrules) + limits_size(nlimits);
}

/* The i-th tenant of a checked payload, as this version defines one: a
 * format 1 or 2 tenant is read as a format 3 or 4 one with the new
 * columns' defaults, and one of those with refusal_sqlstate's. */
static void
tenant_at(const char *tenants, uint32_t format, int i, PgovTenantDef *out)
{
	PgovTenantDefV4 v4;

	if (format >= 5)
	{
		memcpy(out, tenants + sizeof(PgovTenantDef) * (size_t) i, sizeof(*out));
		return;
	}
	if (format >= 3)
		memcpy(&v4, tenants + sizeof(v4) * (size_t) i, sizeof(v4));
	else
	{
		PgovTenantDefV2 old;

		memcpy(&old, tenants + sizeof(old) * (size_t) i, sizeof(old));
		memset(&v4, 0, sizeof(v4));
		memcpy(v4.name, old.name, PGOV_NAME_LEN);
		v4.max_connections = old.max_connections;
		v4.reserved_connections = old.reserved_connections;
		v4.max_waiting = old.max_waiting;
		v4.wait_timeout_ms = old.wait_timeout_ms;
		v4.weight = 1;
		v4.drain = PGOV_DRAIN_NATURAL;
		v4.drain_grace_ms = PGOV_SNAP_DEFAULT_GRACE_MS;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out->name, v4.name, PGOV_NAME_LEN);
	out->max_connections = v4.max_connections;
	out->reserved_connections = v4.reserved_connections;
	out->max_waiting = v4.max_waiting;
	out->wait_timeout_ms = v4.wait_timeout_ms;
	out->weight = v4.weight;
	out->drain = v4.drain;
	out->drain_grace_ms = v4.drain_grace_ms;
	out->refusal = PGOV_REFUSAL_TOO_MANY;
}

/* The largest file a snapshot can be: anything larger is damage. */
size_t
pgov_snap_max_size(void)
{
	return PGOV_SNAP_HEADER_SIZE +
		pgov_snap_payload_size(PGOV_SNAP_MAX_TENANTS, PGOV_SNAP_MAX_RULES,
							   PGOV_SNAP_MAX_LIMITS);
}

/*
 * Writes the canonical payload of a configuration into buf (of
 * pgov_snap_payload_size bytes).  The head is zeroed before it is filled
 * and the arrays are copied as they are (the loader zeroes them, padding
 * included), so equal configurations give equal bytes: the worker compares
 * payloads to tell whether the tables changed.
 */
void
pgov_snap_payload(char *buf, int capacity, const char *default_tenant,
				  const PgovTenantDef *tenants, int ntenants,
				  const PgovRule *rules, int nrules,
				  const PgovNodeLimit *limits, int nlimits)
{
	PgovSnapHead head;
	size_t		tsize = sizeof(PgovTenantDef) * (size_t) ntenants;
	size_t		rsize = sizeof(PgovRule) * (size_t) nrules;
	char	   *lp = buf + sizeof(head) + tsize + rsize;

	memset(&head, 0, sizeof(head));
	head.ntenants = ntenants;
	head.nrules = nrules;
	head.capacity = capacity;
	strncpy(head.default_tenant, default_tenant, PGOV_NAME_LEN - 1);
	memcpy(buf, &head, sizeof(head));
	if (tsize)
		memcpy(buf + sizeof(head), tenants, tsize);
	if (rsize)
		memcpy(buf + sizeof(head) + tsize, rules, rsize);
	put32(lp, (uint32_t) nlimits);
	put32(lp + 4, 0);
	if (nlimits)
		memcpy(lp + LIMITS_HEAD, limits, sizeof(PgovNodeLimit) * (size_t) nlimits);
}

/* Fills the 32-byte header for payload (PGOV_SNAP_FORMAT). */
void
pgov_snap_header(char *header, uint64_t generation, const char *payload,
				 size_t payload_len)
{
	uint32_t	crc;

	memset(header, 0, PGOV_SNAP_HEADER_SIZE);
	put32(header + OFF_MAGIC, PGOV_SNAP_MAGIC);
	put32(header + OFF_FORMAT, PGOV_SNAP_FORMAT);
	put32(header + OFF_TSIZE, (uint32_t) sizeof(PgovTenantDef));
	put32(header + OFF_RSIZE, (uint32_t) sizeof(PgovRule));
	memcpy(header + OFF_GENERATION, &generation, sizeof(generation));
	put32(header + OFF_LENGTH, (uint32_t) payload_len);
	crc = pgov_crc32c(0xFFFFFFFF, header, OFF_CRC);
	crc = pgov_crc32c(crc, payload, payload_len) ^ 0xFFFFFFFF;
	put32(header + OFF_CRC, crc);
}

/* Is s a NUL-terminated string within a buffer of len bytes? */
static int
terminated(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

static int
tenant_ok(const PgovTenantDef *t, uint32_t format)
{
	return terminated(t->name, PGOV_NAME_LEN) && t->name[0] != '\0' &&
		t->max_connections >= PGOV_NO_CAP && t->reserved_connections >= 0 &&
		t->max_waiting >= 0 && t->wait_timeout_ms >= 0 &&
		t->weight >= PGOV_WEIGHT_MIN && t->weight <= PGOV_WEIGHT_MAX &&
		(t->drain == PGOV_DRAIN_NATURAL || t->drain == PGOV_DRAIN_IDLE) &&
		t->drain_grace_ms >= 0 &&
		(t->refusal == PGOV_REFUSAL_TOO_MANY ||
		 t->refusal == PGOV_REFUSAL_CANNOT_CONNECT) &&
		(format >= 6 ? t->cluster_quota >= 0 : t->cluster_quota == 0);
}

static int
limit_ok(const PgovNodeLimit *l, int ntenants, uint32_t format)
{
	return terminated(l->node, PGOV_NAME_LEN) && l->node[0] != '\0' &&
		l->tenant >= 0 && l->tenant < ntenants &&
		l->max_connections >= PGOV_NO_CAP && l->reserved_connections >= 0 &&
		(format >= 6 ? l->cluster_floor >= 0 : l->cluster_floor == 0);
}

static int
rule_ok(const PgovRule *r, int ntenants)
{
	return r->tenant >= 0 && r->tenant < ntenants &&
		terminated(r->role_name, PGOV_NAME_LEN) &&
		terminated(r->database_name, PGOV_NAME_LEN) &&
		terminated(r->application_name, PGOV_NAME_LEN) &&
		(!r->has_client_addr ||
		 (r->client_addr.family == 4 && r->client_addr.bits <= 32) ||
		 (r->client_addr.family == 6 && r->client_addr.bits <= 128));
}

/*
 * Checks a whole file's bytes.  On PGOV_SNAP_OK, info has the generation
 * and the head, and pgov_snap_copy can copy the arrays out.  O(len).
 */
PgovSnapStatus
pgov_snap_check(const char *file, size_t len, PgovSnapInfo *info)
{
	const char *payload = file + PGOV_SNAP_HEADER_SIZE;
	uint32_t	format;
	uint32_t	payload_len;
	uint32_t	crc;
	size_t		at;
	size_t		base;
	int			i;

	memset(info, 0, sizeof(*info));
	if (len < PGOV_SNAP_HEADER_SIZE)
		return PGOV_SNAP_SHORT;
	if (get32(file + OFF_MAGIC) != PGOV_SNAP_MAGIC)
		return PGOV_SNAP_NOT_SNAPSHOT;
	format = get32(file + OFF_FORMAT);
	if (format < 1 || format > PGOV_SNAP_FORMAT ||
		get32(file + OFF_TSIZE) != tenant_size(format) ||
		get32(file + OFF_RSIZE) != sizeof(PgovRule))
		return PGOV_SNAP_OTHER_VERSION;
	payload_len = get32(file + OFF_LENGTH);
	if ((size_t) payload_len != len - PGOV_SNAP_HEADER_SIZE)
		return PGOV_SNAP_BAD_LENGTH;

	/* format 1 covered the payload alone; format 2 the header too */
	crc = 0xFFFFFFFF;
	if (format >= 2)
		crc = pgov_crc32c(crc, file, OFF_CRC);
	crc = pgov_crc32c(crc, payload, payload_len) ^ 0xFFFFFFFF;
	if (crc != get32(file + OFF_CRC))
		return PGOV_SNAP_BAD_CHECKSUM;

	if (payload_len < sizeof(PgovSnapHead))
		return PGOV_SNAP_BAD_LAYOUT;
	memcpy(&info->head, payload, sizeof(PgovSnapHead));
	if (info->head.ntenants < 0 || info->head.ntenants > PGOV_SNAP_MAX_TENANTS ||
		info->head.nrules < 0 || info->head.nrules > PGOV_SNAP_MAX_RULES ||
		!terminated(info->head.default_tenant, PGOV_NAME_LEN))
		return PGOV_SNAP_BAD_LAYOUT;
	base = payload_size(format, info->head.ntenants, info->head.nrules);
	if (format < 4)
	{
		if (payload_len != base)
			return PGOV_SNAP_BAD_LAYOUT;
	}
	else
	{
		int32_t		nlimits;

		if (payload_len < base + LIMITS_HEAD)
			return PGOV_SNAP_BAD_LAYOUT;
		nlimits = (int32_t) get32(payload + base);
		if (nlimits < 0 || nlimits > PGOV_SNAP_MAX_LIMITS ||
			get32(payload + base + 4) != 0 ||
			payload_len != base + limits_size(nlimits))
			return PGOV_SNAP_BAD_LAYOUT;
		info->nlimits = nlimits;
	}

	/* tenants: valid, and strictly sorted by name (they are searched) */
	at = sizeof(PgovSnapHead);
	for (i = 0; i < info->head.ntenants; i++)
	{
		PgovTenantDef t;
		PgovTenantDef prev;

		tenant_at(payload + at, format, i, &t);
		if (!tenant_ok(&t, format))
			return PGOV_SNAP_BAD_LAYOUT;
		if (i > 0)
		{
			tenant_at(payload + at, format, i - 1, &prev);
			if (strcmp(prev.name, t.name) >= 0)
				return PGOV_SNAP_BAD_LAYOUT;
		}
	}
	at += tenant_size(format) * (size_t) info->head.ntenants;
	for (i = 0; i < info->head.nrules; i++)
	{
		PgovRule	r;

		memcpy(&r, payload + at, sizeof(r));
		if (!rule_ok(&r, info->head.ntenants))
			return PGOV_SNAP_BAD_LAYOUT;
		at += sizeof(r);
	}
	at += LIMITS_HEAD;
	for (i = 0; i < info->nlimits; i++)
	{
		PgovNodeLimit l;

		memcpy(&l, payload + at, sizeof(l));
		if (!limit_ok(&l, info->head.ntenants, format))
			return PGOV_SNAP_BAD_LAYOUT;
		at += sizeof(l);
	}
	memcpy(&info->generation, file + OFF_GENERATION, sizeof(info->generation));
	info->format = format;
	return PGOV_SNAP_OK;
}

/* Copies a checked file's arrays into tenants[ntenants] and rules[nrules]. */
void
pgov_snap_copy(const char *file, const PgovSnapInfo *info,
			   PgovTenantDef *tenants, PgovRule *rules, PgovNodeLimit *limits)
{
	const char *p = file + PGOV_SNAP_HEADER_SIZE + sizeof(PgovSnapHead);
	size_t		tsize = tenant_size(info->format) * (size_t) info->head.ntenants;
	int			i;

	for (i = 0; i < info->head.ntenants; i++)
		tenant_at(p, info->format, i, &tenants[i]);
	if (info->head.nrules)
		memcpy(rules, p + tsize, sizeof(PgovRule) * (size_t) info->head.nrules);
	if (info->nlimits)
		memcpy(limits, p + tsize + sizeof(PgovRule) * (size_t) info->head.nrules +
			   LIMITS_HEAD, sizeof(PgovNodeLimit) * (size_t) info->nlimits);
}

/* What the WARNING says of the file: "the snapshot ... <text>". */
const char *
pgov_snap_status_text(PgovSnapStatus status)
{
	switch (status)
	{
		case PGOV_SNAP_OK:
			return "is valid";
		case PGOV_SNAP_SHORT:
			return "is truncated (shorter than its header)";
		case PGOV_SNAP_NOT_SNAPSHOT:
			return "is not a pool_governor snapshot";
		case PGOV_SNAP_OTHER_VERSION:
			return "was written by another version of pool_governor";
		case PGOV_SNAP_BAD_LENGTH:
			return "is damaged (its length is not the one its header gives)";
		case PGOV_SNAP_BAD_CHECKSUM:
			return "is damaged (checksum mismatch)";
		case PGOV_SNAP_BAD_LAYOUT:
			return "is damaged (bad layout)";
	}
	return "is damaged";
}
