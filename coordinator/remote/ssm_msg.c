/* remote/ssm_msg.c: see remote/ssm_msg.h. */
#include "remote/ssm_msg.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

int
ssm_msg_parse(const void *buf, size_t len, struct ssm_msg *m, struct cut_err *err)
{
	const unsigned char *b = buf;
	unsigned char digest[SHA256_DIGEST_LENGTH];
	size_t i, s, e;
	uint32_t hl, plen;

	memset(m, 0, sizeof(*m));
	if (len < SSM_MSG_PAYLOAD_OFF)
		return cut_err_set(err, CUT_EPROTO,
		    "The Session Manager data channel sent a message of %zu bytes, shorter than its 120-byte header.", len);
	if (len > SSM_MSG_MAX)
		return cut_err_set(err, CUT_EPROTO,
		    "The Session Manager data channel sent a message of %zu bytes, over the %u this tool accepts.", len,
		    SSM_MSG_MAX);
	hl = get32(b);
	if (hl != SSM_MSG_HL)
		return cut_err_set(err, CUT_EPROTO,
		    "The Session Manager data channel sent a message with header length %u instead of 116.", hl);
	/* MessageType: printable ASCII, padded with spaces (or NULs). */
	for (s = 4; s < 36 && (b[s] == ' ' || b[s] == '\0'); s++)
		;
	for (e = 36; e > s && (b[e - 1] == ' ' || b[e - 1] == '\0'); e--)
		;
	for (i = s; i < e; i++)
		if (b[i] < 0x21 || b[i] > 0x7e)
			return cut_err_set(err, CUT_EPROTO,
			    "The Session Manager data channel sent a message whose type is not printable text.");
	memcpy(m->type, b + s, e - s);
	m->type[e - s] = '\0';
	m->schema = get32(b + 36);
	m->created_ms = get64(b + 40);
	m->seq = (int64_t)get64(b + 48);
	m->flags = get64(b + 56);
	/* The plugin writes the UUID's low half first. */
	memcpy(m->id, b + 72, 8);
	memcpy(m->id + 8, b + 64, 8);
	m->payload_type = get32(b + 112);
	plen = get32(b + 116);
	if ((size_t)plen != len - SSM_MSG_PAYLOAD_OFF)
		return cut_err_set(err, CUT_EPROTO,
		    "The Session Manager data channel sent a '%s' message claiming %u payload bytes but carrying %zu.",
		    m->type, plen, len - SSM_MSG_PAYLOAD_OFF);
	m->payload = b + SSM_MSG_PAYLOAD_OFF;
	m->payload_len = plen;
	if (plen > 0) {
		SHA256(m->payload, plen, digest);
		if (memcmp(digest, b + 80, sizeof(digest)) != 0)
			return cut_err_set(err, CUT_EPROTO,
			    "The Session Manager data channel sent a '%s' message whose payload does not match its SHA-256 "
			    "digest (damaged in transit).", m->type);
	}
	return 0;
}

void
ssm_uuid_new(unsigned char id[16])
{
	if (RAND_bytes(id, 16) != 1) {
		/* Only the message id: uniqueness, not secrecy, is what matters. */
		struct timeval tv;
		static const unsigned char salt[16] = "cutover-ssm-uuid";
		gettimeofday(&tv, NULL);
		memcpy(id, salt, 16);
		memcpy(id, &tv, sizeof(tv) < 16 ? sizeof(tv) : 16);
	}
	id[6] = (unsigned char)((id[6] & 0x0f) | 0x40);
	id[8] = (unsigned char)((id[8] & 0x3f) | 0x80);
}

void
ssm_msg_build(struct sbuf *out, const char *type, int64_t seq, uint64_t flags, uint32_t payload_type,
    const void *payload, size_t len, const unsigned char *id)
{
	unsigned char h[SSM_MSG_PAYLOAD_OFF], uid[16];
	size_t tl = strlen(type);
	struct timeval tv;

	if (tl > 32)
		tl = 32;
	memset(h, 0, sizeof(h));
	put32(h, SSM_MSG_HL);
	memset(h + 4, ' ', 32);
	memcpy(h + 4, type, tl);
	put32(h + 36, 1);
	gettimeofday(&tv, NULL);
	put64(h + 40, (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u);
	put64(h + 48, (uint64_t)seq);
	put64(h + 56, flags);
	if (id == NULL) {
		ssm_uuid_new(uid);
		id = uid;
	}
	memcpy(h + 64, id + 8, 8);
	memcpy(h + 72, id, 8);
	SHA256(payload != NULL ? payload : (const void *)"", len, h + 80);
	put32(h + 112, payload_type);
	put32(h + 116, (uint32_t)len);
	sbuf_addn(out, h, sizeof(h));
	if (len > 0)
		sbuf_addn(out, payload, len);
}

void
ssm_uuid_str(const unsigned char id[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11], id[12], id[13],
	    id[14], id[15]);
}
