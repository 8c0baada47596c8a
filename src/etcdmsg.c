/*-------------------------------------------------------------------------
 *
 * etcdmsg.c
 *		The cluster quota's keys, the JSON of etcd's gateway (built and
 *		read) and the arithmetic of a node's grant (etcdmsg.h).  Pure: no
 *		PostgreSQL header, no I/O, no allocation.
 *
 * The JSON reader is just enough for etcd's answers: it walks the text to
 * the value a path names, without building anything.  Malformed text, a
 * value too long for the caller's buffer or a missing path is "absent".
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcdmsg.h"

/* Deepest nesting the reader follows (etcd's answers nest 4 deep). */
#define JSON_MAX_DEPTH 32

/* --- base64 --- */

static const char b64chars[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encodes len bytes into dst (NUL-terminated); returns the length, or 0
 * when dst is too small (an empty source encodes to "" too). */
size_t
pgov_b64_encode(const void *src, size_t len, char *dst, size_t dstlen)
{
	const unsigned char *s = src;
	size_t		need = (len + 2) / 3 * 4;
	size_t		i;
	size_t		o = 0;

	if (dstlen < need + 1)
		return 0;
	for (i = 0; i < len; i += 3)
	{
		uint32_t	v = (uint32_t) s[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t) s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		dst[o++] = b64chars[(v >> 18) & 63];
		dst[o++] = b64chars[(v >> 12) & 63];
		dst[o++] = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
		dst[o++] = i + 2 < len ? b64chars[v & 63] : '=';
	}
	dst[o] = '\0';
	return o;
}

static int
b64_value(char c)
{
	const char *p = c ? strchr(b64chars, c) : NULL;

	return p ? (int) (p - b64chars) : -1;
}

/* Decodes src into dst (NUL-terminated); returns the length, or -1 when
 * src is not base64 or dst too small. */
int
pgov_b64_decode(const char *src, char *dst, size_t dstlen)
{
	size_t		len = strlen(src);
	size_t		o = 0;
	size_t		i;

	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4)
	{
		int			a = b64_value(src[i]);
		int			b = b64_value(src[i + 1]);
		bool		pad2 = src[i + 2] == '=';
		bool		pad3 = src[i + 3] == '=';
		int			c = pad2 ? 0 : b64_value(src[i + 2]);
		int			d = pad3 ? 0 : b64_value(src[i + 3]);
		uint32_t	v;

		if (a < 0 || b < 0 || c < 0 || d < 0 || (pad2 && !pad3) ||
			((pad2 || pad3) && i + 4 != len))
			return -1;
		v = (uint32_t) a << 18 | (uint32_t) b << 12 | (uint32_t) c << 6 | (uint32_t) d;
		if (o + 3 + 1 > dstlen)
			return -1;
		dst[o++] = (char) (v >> 16);
		if (!pad2)
			dst[o++] = (char) (v >> 8 & 255);
		if (!pad3)
			dst[o++] = (char) (v & 255);
	}
	dst[o] = '\0';
	return (int) o;
}

/* --- reading JSON --- */

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Past the string that starts at p (its opening quote), or NULL. */
static const char *
skip_string(const char *p)
{
	for (p++; *p; p++)
	{
		if (*p == '\\')
		{
			if (!p[1])
				return NULL;
			p++;
		}
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

static const char *skip_value(const char *p, int depth);

/* Past the object or array that starts at p, or NULL. */
static const char *
skip_container(const char *p, int depth)
{
	char		close = *p == '{' ? '}' : ']';

	if (depth > JSON_MAX_DEPTH)
		return NULL;
	p = skip_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;)
	{
		if (close == '}')
		{
			if (*p != '"' || !(p = skip_string(p)))
				return NULL;
			p = skip_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		if (!(p = skip_value(skip_ws(p), depth + 1)))
			return NULL;
		p = skip_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
		p = skip_ws(p);
	}
}

/* Past the value that starts at p, or NULL. */
static const char *
skip_value(const char *p, int depth)
{
	if (*p == '"')
		return skip_string(p);
	if (*p == '{' || *p == '[')
		return skip_container(p, depth);
	if (*p == '-' || (*p >= '0' && *p <= '9') || *p == 't' || *p == 'f' || *p == 'n')
	{
		const char *q = p;

		while (*q == '-' || *q == '+' || *q == '.' || (*q >= '0' && *q <= '9') ||
			   (*q >= 'a' && *q <= 'z') || *q == 'E')
			q++;
		return q;
	}
	return NULL;
}

/* Unescapes the string at p (its opening quote) into out; false when it
 * does not fit. */
static bool
copy_string(const char *p, char *out, size_t outlen)
{
	size_t		o = 0;

	for (p++; *p && *p != '"'; p++)
	{
		char		c = *p;

		if (c == '\\')
		{
			p++;
			switch (*p)
			{
				case 'n':
					c = '\n';
					break;
				case 't':
					c = '\t';
					break;
				case 'r':
					c = '\r';
					break;
				case 'b':
					c = '\b';
					break;
				case 'f':
					c = '\f';
					break;
				case 'u':
					{
						unsigned	v = 0;
						int			i;

						for (i = 1; i <= 4; i++)
						{
							char		h = p[i];

							if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
								  (h >= 'A' && h <= 'F')))
								return false;
							v = v * 16 + (unsigned) (h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
						}
						p += 4;
						c = v < 128 ? (char) v : '?';
						break;
					}
				case '\0':
					return false;
				default:
					c = *p;		/* \" \\ \/ */
			}
		}
		if (o + 1 >= outlen)
			return false;
		out[o++] = c;
	}
	if (*p != '"')
		return false;
	out[o] = '\0';
	return true;
}

/* Does the string at p (its opening quote) say name, name's length len? */
static bool
key_is(const char *p, const char *name, size_t len)
{
	char		buf[128];

	return len < sizeof(buf) && copy_string(p, buf, sizeof(buf)) &&
		strlen(buf) == len && memcmp(buf, name, len) == 0;
}

/* The value path names in the document json, or NULL (also when json is
 * not one whole JSON value: a cut answer says nothing). */
static const char *
find(const char *json, const char *path)
{
	int			depth = 0;
	const char *p = skip_ws(json);
	const char *end = skip_value(p, 0);

	if (!end || *skip_ws(end) != '\0')
		return NULL;
	while (*path)
	{
		const char *dot = strchr(path, '.');
		size_t		len = dot ? (size_t) (dot - path) : strlen(path);

		if (++depth > JSON_MAX_DEPTH)
			return NULL;
		if (*p == '{')
		{
			p = skip_ws(p + 1);
			for (;;)
			{
				const char *key = p;

				if (*p != '"' || !(p = skip_string(p)))
					return NULL;
				p = skip_ws(p);
				if (*p++ != ':')
					return NULL;
				p = skip_ws(p);
				if (key_is(key, path, len))
					break;
				if (!(p = skip_value(p, depth)))
					return NULL;
				p = skip_ws(p);
				if (*p++ != ',')
					return NULL;	/* '}': not there */
				p = skip_ws(p);
			}
		}
		else if (*p == '[')
		{
			char	   *end;
			long		index = strtol(path, &end, 10);

			if (end != path + len || len == 0 || index < 0)
				return NULL;
			p = skip_ws(p + 1);
			if (*p == ']')
				return NULL;
			while (index-- > 0)
			{
				if (!(p = skip_value(p, depth)))
					return NULL;
				p = skip_ws(p);
				if (*p++ != ',')
					return NULL;
				p = skip_ws(p);
			}
		}
		else
			return NULL;
		path += len + (dot ? 1 : 0);
	}
	return p;
}

bool
pgov_json_get(const char *json, const char *path, char *out, size_t outlen)
{
	const char *p = find(json, path);
	const char *end;

	if (!p || !(end = skip_value(p, 0)))
		return false;
	if (*p == '"')
		return copy_string(p, out, outlen);
	if ((size_t) (end - p) >= outlen)
		return false;
	memcpy(out, p, end - p);
	out[end - p] = '\0';
	return true;
}

/* How many elements the array at path has; 0 when absent (etcd leaves out
 * an empty array), -1 when it is not an array or the text is malformed. */
int
pgov_json_count(const char *json, const char *path)
{
	const char *p = find(json, path);
	int			n = 0;

	if (!p)
	{
		const char *end = skip_value(skip_ws(json), 0);

		return end && *skip_ws(end) == '\0' ? 0 : -1;
	}
	if (*p != '[')
		return -1;
	p = skip_ws(p + 1);
	if (*p == ']')
		return 0;
	for (;;)
	{
		if (!(p = skip_value(p, 1)))
			return -1;
		n++;
		p = skip_ws(p);
		if (*p == ']')
			return n;
		if (*p++ != ',')
			return -1;
		p = skip_ws(p);
	}
}

/* --- pool_governor.etcd_endpoints --- */

/*
 * The endpoints of list, separated by commas or spaces.  Returns how many
 * there are; when there is an i-th (from 0), *start and *len say where.
 */
int
pgov_etcd_endpoint(const char *list, int i, const char **start, size_t *len)
{
	const char *p = list ? list : "";
	int			n = 0;

	while (*p)
	{
		const char *s;

		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && *p != ',' && *p != ' ')
			p++;
		if (n == i)
		{
			*start = s;
			*len = (size_t) (p - s);
		}
		n++;
	}
	return n;
}

/* --- keys --- */

/* Appends name to out at *o with '%', '/' and control bytes encoded. */
static bool
put_name(char *out, size_t outlen, size_t *o, const char *name)
{
	for (; *name; name++)
	{
		unsigned char c = (unsigned char) *name;

		if (c == '%' || c == '/' || c < 0x20)
		{
			if (*o + 3 >= outlen)
				return false;
			snprintf(out + *o, 4, "%%%02X", c);
			*o += 3;
		}
		else
		{
			if (*o + 1 >= outlen)
				return false;
			out[(*o)++] = (char) c;
		}
	}
	out[*o] = '\0';
	return true;
}

static bool
put_text(char *out, size_t outlen, size_t *o, const char *text)
{
	size_t		len = strlen(text);

	if (*o + len >= outlen)
		return false;
	memcpy(out + *o, text, len + 1);
	*o += len;
	return true;
}

bool
pgov_etcd_key(char *out, size_t outlen, PgovEtcdKey kind, const char *cluster,
			  const char *tenant, const char *node)
{
	size_t		o = 0;

	if (outlen == 0 || !put_text(out, outlen, &o, cluster) ||
		!put_text(out, outlen, &o, "/quota/") ||
		!put_name(out, outlen, &o, tenant) || !put_text(out, outlen, &o, "/"))
		return false;
	if (kind == PGOV_KEY_REV)
		return put_text(out, outlen, &o, "rev");
	if (kind == PGOV_KEY_GRANT)
		return put_text(out, outlen, &o, "grant/") &&
			put_name(out, outlen, &o, node);
	return true;
}

/* "key":"<base64 of key>" into out at *o. */
static bool
put_key(char *out, size_t outlen, size_t *o, const char *field, const char *key)
{
	char		b64[PGOV_ETCD_KEY_LEN * 2];

	if (!pgov_b64_encode(key, strlen(key), b64, sizeof(b64)))
		return false;
	return put_text(out, outlen, o, "\"") && put_text(out, outlen, o, field) &&
		put_text(out, outlen, o, "\":\"") && put_text(out, outlen, o, b64) &&
		put_text(out, outlen, o, "\"");
}

/* --- requests --- */

bool
pgov_etcd_grant_body(char *out, size_t outlen, int ttl_s)
{
	int			n = snprintf(out, outlen, "{\"TTL\":\"%d\"}", ttl_s);

	return n > 0 && (size_t) n < outlen;
}

bool
pgov_etcd_keepalive_body(char *out, size_t outlen, int64_t lease)
{
	int			n = snprintf(out, outlen, "{\"ID\":\"%" PRId64 "\"}", lease);

	return n > 0 && (size_t) n < outlen;
}

/* Every key of the tenant: [C/quota/T/, C/quota/T0). */
bool
pgov_etcd_range_body(char *out, size_t outlen, const char *cluster,
					 const char *tenant)
{
	char		key[PGOV_ETCD_KEY_LEN];
	char		end[PGOV_ETCD_KEY_LEN];
	size_t		o = 0;
	size_t		len;

	if (!pgov_etcd_key(key, sizeof(key), PGOV_KEY_TENANT, cluster, tenant, NULL))
		return false;
	len = strlen(key);
	memcpy(end, key, len + 1);
	end[len - 1]++;				/* the '/' that ends it: '0' */
	return put_text(out, outlen, &o, "{") &&
		put_key(out, outlen, &o, "key", key) && put_text(out, outlen, &o, ",") &&
		put_key(out, outlen, &o, "range_end", end) && put_text(out, outlen, &o, "}");
}

/*
 * One change of this node's grant: if the tenant's rev key is still at
 * rev_mod (0: it does not exist yet), bump it and set the grant (with the
 * lease; 0 deletes it).  Any other node's change in between fails it.
 */
bool
pgov_etcd_txn_body(char *out, size_t outlen, const char *cluster,
				   const char *tenant, const char *node, int64_t rev_mod,
				   int grant, int64_t lease)
{
	char		rev[PGOV_ETCD_KEY_LEN];
	char		gkey[PGOV_ETCD_KEY_LEN];
	char		nodeval[PGOV_ETCD_KEY_LEN];
	char		grantval[32];
	char		num[128];
	size_t		o = 0;

	if (!pgov_etcd_key(rev, sizeof(rev), PGOV_KEY_REV, cluster, tenant, NULL) ||
		!pgov_etcd_key(gkey, sizeof(gkey), PGOV_KEY_GRANT, cluster, tenant, node) ||
		!pgov_b64_encode(node, strlen(node), nodeval, sizeof(nodeval)))
		return false;
	snprintf(num, sizeof(num), "%d", grant);
	if (!pgov_b64_encode(num, strlen(num), grantval, sizeof(grantval)))
		return false;
	if (!put_text(out, outlen, &o, "{\"compare\":[{") ||
		!put_key(out, outlen, &o, "key", rev))
		return false;
	if (rev_mod > 0)
		snprintf(num, sizeof(num), ",\"target\":\"MOD\",\"result\":\"EQUAL\",\"mod_revision\":\"%" PRId64 "\"}],", rev_mod);
	else
		snprintf(num, sizeof(num), ",\"target\":\"VERSION\",\"result\":\"EQUAL\",\"version\":\"0\"}],");
	if (!put_text(out, outlen, &o, num) ||
		!put_text(out, outlen, &o, "\"success\":[{\"requestPut\":{") ||
		!put_key(out, outlen, &o, "key", rev) ||
		!put_text(out, outlen, &o, ",\"value\":\"") ||
		!put_text(out, outlen, &o, nodeval) ||
		!put_text(out, outlen, &o, "\"}},"))
		return false;
	if (grant > 0)
	{
		snprintf(num, sizeof(num), "\",\"lease\":\"%" PRId64 "\"}}]}", lease);
		return put_text(out, outlen, &o, "{\"requestPut\":{") &&
			put_key(out, outlen, &o, "key", gkey) &&
			put_text(out, outlen, &o, ",\"value\":\"") &&
			put_text(out, outlen, &o, grantval) && put_text(out, outlen, &o, num);
	}
	return put_text(out, outlen, &o, "{\"requestDeleteRange\":{") &&
		put_key(out, outlen, &o, "key", gkey) && put_text(out, outlen, &o, "}}]}");
}

/* --- responses --- */

/* An int64 that etcd writes as a string (or a number). */
static bool
get_int64(const char *json, const char *path, int64_t *out)
{
	char		buf[32];
	char	   *end;

	if (!pgov_json_get(json, path, buf, sizeof(buf)) || buf[0] == '\0')
		return false;
	*out = strtoll(buf, &end, 10);
	return *end == '\0';
}

/* A lease granted: its ID and TTL.  False for an error (etcd says
 * "error") or an answer without them. */
bool
pgov_etcd_read_grant(const char *json, int64_t *lease, int *ttl_s)
{
	int64_t		ttl;

	if (!get_int64(json, "ID", lease) || !get_int64(json, "TTL", &ttl) ||
		*lease == 0 || ttl <= 0 || ttl > INT32_MAX)
		return false;
	*ttl_s = (int) ttl;
	return true;
}

/* A keep-alive's answer: the lease's TTL left, 0 when etcd no longer has
 * the lease (it leaves TTL out), -1 when the answer is not one. */
int
pgov_etcd_read_keepalive(const char *json)
{
	char		buf[32];
	int64_t		ttl;

	if (!pgov_json_get(json, "result.header.revision", buf, sizeof(buf)) &&
		!pgov_json_get(json, "result.ID", buf, sizeof(buf)))
		return -1;
	if (!get_int64(json, "result.TTL", &ttl))
		return 0;
	return ttl < 0 ? 0 : (int) (ttl > INT32_MAX ? INT32_MAX : ttl);
}

/* The i-th key of a range's answer, decoded into key[PGOV_ETCD_KEY_LEN]. */
static bool
kv_key(const char *json, int i, char *key)
{
	char		path[32];
	char		b64[PGOV_ETCD_KEY_LEN * 2];

	snprintf(path, sizeof(path), "kvs.%d.key", i);
	return pgov_json_get(json, path, b64, sizeof(b64)) &&
		pgov_b64_decode(b64, key, PGOV_ETCD_KEY_LEN) >= 0;
}

/* A grant's value: a decimal count. */
static bool
grant_value(const char *b64, int *out)
{
	char		buf[32];
	char	   *end;
	long		v;

	if (pgov_b64_decode(b64, buf, sizeof(buf)) <= 0)
		return false;
	v = strtol(buf, &end, 10);
	if (*end != '\0' || v < 0 || v > INT32_MAX)
		return false;
	*out = (int) v;
	return true;
}

bool
pgov_etcd_read_range(const char *json, const char *cluster, const char *tenant,
					 const char *node, PgovEtcdTenant *out)
{
	char		rev[PGOV_ETCD_KEY_LEN];
	char		grant[PGOV_ETCD_KEY_LEN];
	char		mine[PGOV_ETCD_KEY_LEN];
	size_t		glen;
	int			n;
	int			i;
	char		buf[32];

	memset(out, 0, sizeof(*out));
	if (!pgov_json_get(json, "header.revision", buf, sizeof(buf)) ||
		!pgov_etcd_key(rev, sizeof(rev), PGOV_KEY_REV, cluster, tenant, NULL) ||
		!pgov_etcd_key(grant, sizeof(grant), PGOV_KEY_GRANT, cluster, tenant, "") ||
		!pgov_etcd_key(mine, sizeof(mine), PGOV_KEY_GRANT, cluster, tenant, node))
		return false;
	glen = strlen(grant);
	n = pgov_json_count(json, "kvs");
	if (n < 0)
		return false;
	for (i = 0; i < n; i++)
	{
		char		path[32];
		char		b64[PGOV_ETCD_KEY_LEN * 2];
		char		key[PGOV_ETCD_KEY_LEN];
		int			v;

		if (!kv_key(json, i, key))
			return false;
		if (strcmp(key, rev) == 0)
		{
			snprintf(path, sizeof(path), "kvs.%d.mod_revision", i);
			if (!get_int64(json, path, &out->rev_mod))
				return false;
			continue;
		}
		if (strncmp(key, grant, glen) != 0)
			continue;
		snprintf(path, sizeof(path), "kvs.%d.value", i);
		if (!pgov_json_get(json, path, b64, sizeof(b64)) || !grant_value(b64, &v))
			return false;
		out->nodes++;
		if (strcmp(key, mine) == 0)
			out->mine = v;
		else if (out->others > INT32_MAX - v)
			return false;
		else
			out->others += v;
	}
	return true;
}

/* A transaction's answer: whether its compare held.  False when it is not
 * an answer (etcd leaves "succeeded" out when it is false). */
bool
pgov_etcd_read_txn(const char *json, bool *succeeded)
{
	char		buf[32];

	if (!pgov_json_get(json, "header.revision", buf, sizeof(buf)))
		return false;
	*succeeded = pgov_json_get(json, "succeeded", buf, sizeof(buf)) &&
		strcmp(buf, "true") == 0;
	return true;
}

/* Every grant of the cluster: [C/quota/, C/quota0), keys only. */
bool
pgov_etcd_all_body(char *out, size_t outlen, const char *cluster)
{
	char		key[PGOV_ETCD_KEY_LEN];
	char		end[PGOV_ETCD_KEY_LEN];
	size_t		o = 0;
	int			n = snprintf(key, sizeof(key), "%s/quota/", cluster);

	if (n <= 0 || (size_t) n >= sizeof(key))
		return false;
	memcpy(end, key, (size_t) n + 1);
	end[n - 1]++;
	return put_text(out, outlen, &o, "{") &&
		put_key(out, outlen, &o, "key", key) && put_text(out, outlen, &o, ",") &&
		put_key(out, outlen, &o, "range_end", end) &&
		put_text(out, outlen, &o, ",\"keys_only\":true}");
}

static int
hex_value(char h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	if (h >= 'A' && h <= 'F')
		return h - 'A' + 10;
	if (h >= 'a' && h <= 'f')
		return h - 'a' + 10;
	return -1;
}

/* Undoes put_name's encoding into out (64 bytes); false when it does not
 * fit or is not an encoding. */
static bool
name_decode(const char *s, size_t len, char *out)
{
	size_t		o = 0;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		if (c == '%')
		{
			int			hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
			int			lo = i + 2 < len ? hex_value(s[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return false;
			c = (char) (hi * 16 + lo);
			i += 2;
		}
		if (o + 1 >= 64)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return o > 0;
}

/*
 * The tenants this node holds a grant of, as a range over every grant of
 * the cluster (pgov_etcd_all_body) says: at most max names into tenants.
 * Returns how many, or -1 when the answer is not one.
 */
int
pgov_etcd_my_tenants(const char *json, const char *cluster, const char *node,
					 char (*tenants)[64], int max)
{
	char		prefix[PGOV_ETCD_KEY_LEN];
	char		suffix[PGOV_ETCD_KEY_LEN];
	size_t		plen;
	size_t		slen;
	size_t		o = 0;
	int			n;
	int			found = 0;
	int			i;
	char		buf[32];

	if (!pgov_json_get(json, "header.revision", buf, sizeof(buf)) ||
		snprintf(prefix, sizeof(prefix), "%s/quota/", cluster) >= (int) sizeof(prefix) ||
		!put_text(suffix, sizeof(suffix), &o, "/grant/") ||
		!put_name(suffix, sizeof(suffix), &o, node))
		return -1;
	plen = strlen(prefix);
	slen = strlen(suffix);
	n = pgov_json_count(json, "kvs");
	if (n < 0)
		return -1;
	for (i = 0; i < n && found < max; i++)
	{
		char		key[PGOV_ETCD_KEY_LEN];
		size_t		klen;

		if (!kv_key(json, i, key))
			return -1;
		klen = strlen(key);
		if (klen <= plen + slen || strncmp(key, prefix, plen) != 0 ||
			strcmp(key + klen - slen, suffix) != 0)
			continue;
		if (name_decode(key + plen, klen - plen - slen, tenants[found]))
			found++;
	}
	return found;
}

/* This node's grant of tenant deleted, whatever it was (giving back is
 * always safe: no compare). */
bool
pgov_etcd_delete_body(char *out, size_t outlen, const char *cluster,
					  const char *tenant, const char *node)
{
	char		key[PGOV_ETCD_KEY_LEN];
	size_t		o = 0;

	return pgov_etcd_key(key, sizeof(key), PGOV_KEY_GRANT, cluster, tenant, node) &&
		put_text(out, outlen, &o, "{") && put_key(out, outlen, &o, "key", key) &&
		put_text(out, outlen, &o, "}");
}

/* --- a node's grant --- */

/*
 * The grant a node wants for a tenant: its sessions and its waiting logins
 * above its floor, and one seat more so that the next login does not wait
 * for a round trip to etcd; none while it has neither.  Never more than
 * its own cap leaves above the floor (cap < 0: none).
 */
int
pgov_grant_want(int floor, int connected, int waiting, int cap)
{
	long		need = (long) connected + waiting;
	long		want;

	if (need <= 0)
		return 0;
	want = need + 1 - floor;
	if (cap >= 0 && want > (long) cap - floor)
		want = (long) cap - floor;
	return want < 0 ? 0 : (int) (want > INT32_MAX ? INT32_MAX : want);
}

/*
 * The grant to hold: what it wants, within what the quota leaves beside
 * every node's floor and the other nodes' grants (never negative: a quota
 * lowered under what is held takes the grant to 0, and the sessions above
 * the floor then drain as above any cap).
 */
int
pgov_grant_next(int want, int quota, int floors, int others)
{
	long		room = (long) quota - floors - others;

	if (room < 0)
		room = 0;
	return want < room ? want : (int) room;
}
