/* world/fleet.c: see world/fleet.h. */
#include "world/fleet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "aws/eb.h"
#include "aws/eic.h"
#include "aws/ssm.h"
#include "remote/ssh.h"
#include "remote/ssm_channel.h"
#include "world/live_names.h"
#include <pthread.h>
#include <dirent.h>
#include <signal.h>
#include <time.h>
#include <sys/stat.h>

/* ---- finding the instances ------------------------------------------------- */

static void
expand_home(const char *in, char *out, size_t len)
{
	const char *home = getenv("HOME");

	if (in[0] == '~' && (in[1] == '/' || in[1] == '\0') && home != NULL)
		snprintf(out, len, "%s%s", home, in + 1);
	else
		snprintf(out, len, "%s", in);
}

static void
add_sg(struct fleet *f, const char *sg)
{
	for (size_t i = 0; i < f->nsg; i++)
		if (strcmp(f->sgs[i], sg) == 0)
			return;
	if (f->nsg < EC2_MAX_SG)
		snprintf(f->sgs[f->nsg++], sizeof(f->sgs[0]), "%s", sg);
}

int
fleet_find(struct aws_client *aws, const struct cfg *cfg, const char *env, struct fleet *out,
    struct cut_err *err)
{
	struct eb_resources res;
	struct ec2_instance_list il;
	int r;

	memset(out, 0, sizeof(*out));
	out->aws = aws;
	out->cfg = cfg;
	snprintf(out->env, sizeof(out->env), "%s", env);
	memset(&res, 0, sizeof(res));
	memset(&il, 0, sizeof(il));
	if ((r = eb_describe_environment_resources(aws, env, &res, err)) != 0) {
		if (r == CUT_ENOTFOUND || strstr(err->msg, "No Environment found") != NULL)
			return cut_err_set(err, CUT_ENOTFOUND,
			    "Elastic Beanstalk has no environment %s; check the name (cutover status -c %s lists them).",
			    env, cfg->path);
		return r;
	}
	if (res.ninstances == 0) {
		eb_resources_free(&res);
		return cut_err_set(err, CUT_ESTATE, "Environment %s has no instances; wait until it has launched.", env);
	}
	r = ec2_describe_instances(aws, (const char *const *)res.instance_ids, res.ninstances, NULL, 0, &il, err);
	eb_resources_free(&res);
	if (r != 0)
		return r;
	out->hosts = calloc(il.n ? il.n : 1, sizeof(*out->hosts));
	if (out->hosts == NULL) {
		ec2_instance_list_free(&il);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory listing the instances of %s.", env);
	}
	for (size_t i = 0; i < il.n; i++) {
		const struct ec2_instance *e = &il.v[i];
		const char *a = cfg->ssh.address_public ? e->public_ip : e->private_ip;
		if (strcmp(e->state, "running") != 0)
			continue;
		if (a[0] == '\0') {
			r = cut_err_set(err, CUT_ESTATE, "Instance %s of %s has no %s address; set [ssh] address = %s in %s.",
			    e->id, env, cfg->ssh.address_public ? "public" : "private",
			    cfg->ssh.address_public ? "private" : "public", cfg->path);
			break;
		}
		struct fleet_host *h = &out->hosts[out->n++];
		snprintf(h->id, sizeof(h->id), "%s", e->id);
		snprintf(h->addr, sizeof(h->addr), "%s", a);
		snprintf(h->az, sizeof(h->az), "%s", e->az);
		snprintf(h->label, sizeof(h->label), "%s (%s)", e->id, a);
		for (size_t k = 0; k < e->nsg; k++)
			add_sg(out, e->sg_ids[k]);
	}
	ec2_instance_list_free(&il);
	if (r == 0 && out->n == 0)
		r = cut_err_set(err, CUT_ESTATE, "Environment %s has no running instance; wait until it is Ready.", env);
	if (r != 0) {
		free(out->hosts);
		out->hosts = NULL;
		out->n = 0;
	}
	return r;
}

/* ---- ephemeral key ------------------------------------------------------------ */

struct wbuf {
	unsigned char b[1024];
	size_t n;
};

static void
put_u32(struct wbuf *w, uint32_t v)
{
	w->b[w->n++] = (unsigned char)(v >> 24);
	w->b[w->n++] = (unsigned char)(v >> 16);
	w->b[w->n++] = (unsigned char)(v >> 8);
	w->b[w->n++] = (unsigned char)v;
}

static void
put_str(struct wbuf *w, const void *s, size_t len)
{
	put_u32(w, (uint32_t)len);
	memcpy(w->b + w->n, s, len);
	w->n += len;
}

static void
put_cstr(struct wbuf *w, const char *s)
{
	put_str(w, s, strlen(s));
}

/* The OpenSSH key format (PROTOCOL.key): libssh2 1.10 reads ed25519 private
 * keys only in this form. */
int
fleet_keygen(const char *path, const char *comment, char *pub, size_t publen, struct cut_err *err)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	unsigned char pk[32], sk[32];
	size_t pkl = sizeof(pk), skl = sizeof(sk);
	struct wbuf blob = { {0}, 0 }, priv = { {0}, 0 }, all = { {0}, 0 };
	uint32_t check;
	unsigned char b64[1500];
	int fd, r = 0;

	if (k == NULL || EVP_PKEY_get_raw_public_key(k, pk, &pkl) != 1 ||
	    EVP_PKEY_get_raw_private_key(k, sk, &skl) != 1 || RAND_bytes((unsigned char *)&check, 4) != 1) {
		EVP_PKEY_free(k);
		return cut_err_set(err, CUT_EIO, "Could not generate an ed25519 key with OpenSSL; check the OpenSSL installation.");
	}
	EVP_PKEY_free(k);
	put_cstr(&blob, "ssh-ed25519");
	put_str(&blob, pk, 32);

	put_u32(&priv, check);
	put_u32(&priv, check);
	put_cstr(&priv, "ssh-ed25519");
	put_str(&priv, pk, 32);
	{
		unsigned char both[64];
		memcpy(both, sk, 32);
		memcpy(both + 32, pk, 32);
		put_str(&priv, both, 64);
		OPENSSL_cleanse(both, sizeof(both));
	}
	put_cstr(&priv, comment);
	for (unsigned char pad = 1; priv.n % 8 != 0; pad++)
		priv.b[priv.n++] = pad;

	memcpy(all.b, "openssh-key-v1", 15);
	all.n = 15;
	put_cstr(&all, "none");
	put_cstr(&all, "none");
	put_cstr(&all, "");
	put_u32(&all, 1);
	put_str(&all, blob.b, blob.n);
	put_str(&all, priv.b, priv.n);
	OPENSSL_cleanse(sk, sizeof(sk));
	OPENSSL_cleanse(&priv, sizeof(priv));

	int bl = EVP_EncodeBlock(b64, all.b, (int)all.n);
	OPENSSL_cleanse(&all, sizeof(all));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		OPENSSL_cleanse(b64, sizeof(b64));
		return cut_err_set(err, CUT_EIO, "Cannot create the key file %s: %s; check the temp folder.", path,
		    strerror(errno));
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		OPENSSL_cleanse(b64, sizeof(b64));
		return cut_err_set(err, CUT_EIO, "Cannot write the key file %s: %s.", path, strerror(errno));
	}
	fputs("-----BEGIN OPENSSH PRIVATE KEY-----\n", f);
	for (int i = 0; i < bl; i += 70)
		fprintf(f, "%.*s\n", bl - i < 70 ? bl - i : 70, (const char *)b64 + i);
	fputs("-----END OPENSSH PRIVATE KEY-----\n", f);
	if (fflush(f) != 0 || fsync(fd) != 0)
		r = cut_err_set(err, CUT_EIO, "Cannot write the key file %s: %s.", path, strerror(errno));
	fclose(f);
	OPENSSL_cleanse(b64, sizeof(b64));
	if (r != 0)
		return r;

	unsigned char pb[200];
	int pl = EVP_EncodeBlock(pb, blob.b, (int)blob.n);
	if ((size_t)snprintf(pub, publen, "ssh-ed25519 %.*s %s", pl, (const char *)pb, comment) >= publen)
		return cut_err_set(err, CUT_EPROTO, "The public key line does not fit; shorten the comment.");
	return 0;
}

/* ---- the operator's address ---------------------------------------------------- */

static size_t
collect(char *p, size_t sz, size_t n, void *user)
{
	char *buf = user;
	size_t have = strlen(buf), add = sz * n;

	if (have + add >= 64)
		add = 63 - have;
	memcpy(buf + have, p, add);
	buf[have + add] = '\0';
	return sz * n;
}

int
fleet_operator_ip(char *buf, size_t len, struct cut_err *err)
{
	const char *e = getenv("CUTOVER_OPERATOR_IP");
	char got[64] = "";
	struct in_addr a;

	if (e != NULL && e[0] != '\0') {
		if (inet_pton(AF_INET, e, &a) != 1)
			return cut_err_set(err, CUT_EINVAL, "CUTOVER_OPERATOR_IP=%s is not an IPv4 address; fix or unset it.", e);
		snprintf(buf, len, "%s", e);
		return 0;
	}
	CURL *c = curl_easy_init();
	if (c == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Could not start libcurl to find this machine's address.");
	curl_easy_setopt(c, CURLOPT_URL, "https://checkip.amazonaws.com/");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, got);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	CURLcode cr = curl_easy_perform(c);
	curl_easy_cleanup(c);
	got[strcspn(got, " \r\n")] = '\0';
	if (cr != CURLE_OK || inet_pton(AF_INET, got, &a) != 1)
		return cut_err_set(err, CUT_ENET,
		    "Could not learn this machine's public address from checkip.amazonaws.com (%s); set "
		    "CUTOVER_OPERATOR_IP to it.", cr != CURLE_OK ? curl_easy_strerror(cr) : "unexpected answer");
	snprintf(buf, len, "%s", got);
	return 0;
}

/* ---- the session ------------------------------------------------------------------ */

static void
remove_key(struct fleet *f)
{
	char p[600];

	if (f->keydir[0] == '\0')
		return;
	snprintf(p, sizeof(p), "%s/id_ed25519", f->keydir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/owner", f->keydir);
	unlink(p);
	rmdir(f->keydir);
	f->keydir[0] = '\0';
	f->identity[0] = '\0';
}

/* The start time of process pid in clock ticks since boot (field 22 of
 * /proc/PID/stat), or 0 when it is not running: a pid alone may have been
 * reused since the folder was made. */
static unsigned long long
proc_start(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: count after the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
	    &start) != 1)
		return 0;
	return start;
}

/* Whether the run that made keydir fd is gone: its owner file names a pid
 * that is not running (or a different process under the same pid); a
 * folder without one (an older cutover's, or a run killed between making
 * the folder and writing it) counts as gone after an hour. */
static int
keydir_dead(int dfd, time_t mtime)
{
	char buf[64];
	long pid = 0;
	unsigned long long start = 0;
	ssize_t n;
	int fd = openat(dfd, "owner", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return time(NULL) - mtime > 3600;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return time(NULL) - mtime > 3600;
	buf[n] = '\0';
	if (sscanf(buf, "%ld %llu", &pid, &start) != 2 || pid <= 0)
		return time(NULL) - mtime > 3600;
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return 1;
	return proc_start(pid) != start;
}

int
fleet_sweep_keydirs(const char *tmpdir, int *removed)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	int n = 0;

	if (removed)
		*removed = 0;
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		int dfd;

		if (strncmp(de->d_name, "cutover-key.", 12) != 0)
			continue;
		/* Only real folders of this user, never through a link. */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != geteuid())
			continue;
		if ((dfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;
		if (keydir_dead(dfd, st.st_mtime)) {
			/* What fleet_open puts there; anything else keeps the folder. */
			unlinkat(dfd, "id_ed25519", 0);
			unlinkat(dfd, "owner", 0);
			if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) == 0)
				n++;
		}
		close(dfd);
	}
	closedir(d);
	if (removed)
		*removed = n;
	return 0;
}

/* ---- Session Manager ------------------------------------------------------ */

/* The dialers of one session. StartSession and TerminateSession go through
 * a client of their own under a lock: connections are made on rexec_many's
 * threads, and the fleet's client belongs to the thread that made it. */
struct fleet_ssm_host {
	struct fleet_ssm *s;
	struct ssh_dialer d;
	char id[32];
};

/* One dialer per instance id, kept until fleet_close (a connection holds a
 * pointer to its dialer): the host list may be replaced while connections
 * live (world/real.c refreshes it), so dialers go by id, never by index. */
struct fleet_ssm {
	pthread_mutex_t mu;
	struct aws_client *aws;      /* owned, made on first use */
	const struct cfg *cfg;
	struct fleet_ssm_host **hosts;   /* owned, each entry too */
	size_t n, cap;
};

struct fleet_ssm_call {
	struct ssm_channel *ch;
	char session_id[128];
};

static int
ssm_client(struct fleet_ssm *s, struct cut_err *err)
{
	if (s->aws != NULL)
		return 0;
	return wlive_client(s->cfg, &s->aws, err);
}

static int
ssm_dial(void *arg, int64_t deadline_ms, int *fd, void **handle, struct cut_err *err)
{
	struct fleet_ssm_host *h = arg;
	struct fleet_ssm *s = h->s;
	struct ssm_session sess;
	struct ssm_channel_opts co;
	struct fleet_ssm_call *call;
	int r;

	*handle = NULL;
	if ((call = calloc(1, sizeof(*call))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory starting a session to %s.", h->id);
	pthread_mutex_lock(&s->mu);
	r = ssm_client(s, err);
	if (r == 0)
		r = ssm_start_session(s->aws, h->id, s->cfg->ssh.port > 0 ? s->cfg->ssh.port : 22, &sess, err);
	pthread_mutex_unlock(&s->mu);
	if (r != 0) {
		free(call);
		return r;
	}
	snprintf(call->session_id, sizeof(call->session_id), "%s", sess.id);
	memset(&co, 0, sizeof(co));
	co.stream_url = sess.stream_url;
	co.token = sess.token;
	co.target = h->id;
	co.ca_file = aws_client_ca_bundle(s->aws);
	co.deadline_ms = deadline_ms;
	r = ssm_channel_open(&call->ch, &co, fd, err);
	ssm_session_free(&sess);
	if (r != 0) {
		struct cut_err e2;
		pthread_mutex_lock(&s->mu);
		(void)ssm_terminate_session(s->aws, call->session_id, &e2);
		pthread_mutex_unlock(&s->mu);
		free(call);
		return r;
	}
	*handle = call;
	return 0;
}

static void
ssm_hang_up(void *arg, void *handle)
{
	struct fleet_ssm_host *h = arg;
	struct fleet_ssm_call *call = handle;
	struct cut_err e2;

	ssm_channel_close(call->ch);
	/* The agent ends the session on our flag; this makes sure AWS does too
	 * (a session left open counts against the account's limit). */
	pthread_mutex_lock(&h->s->mu);
	if (ssm_terminate_session(h->s->aws, call->session_id, &e2) != 0 && getenv("CUTOVER_DEBUG") != NULL)
		fprintf(stderr, "cutover: %s\n", e2.msg);
	pthread_mutex_unlock(&h->s->mu);
	free(call);
}

static void
ssm_free(struct fleet *f)
{
	if (f->ssm == NULL)
		return;
	aws_client_free(f->ssm->aws);
	for (size_t i = 0; i < f->ssm->n; i++)
		free(f->ssm->hosts[i]);
	free(f->ssm->hosts);
	pthread_mutex_destroy(&f->ssm->mu);
	free(f->ssm);
	f->ssm = NULL;
}

/* The dialer of instance id, made on first use; NULL when out of memory. */
static struct ssh_dialer *
ssm_dialer(struct fleet_ssm *s, const char *id)
{
	struct fleet_ssm_host *h;

	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->hosts[i]->id, id) == 0)
			return &s->hosts[i]->d;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct fleet_ssm_host **nh = realloc(s->hosts, cap * sizeof(*nh));
		if (nh == NULL)
			return NULL;
		s->hosts = nh;
		s->cap = cap;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->s = s;
	snprintf(h->id, sizeof(h->id), "%s", id);
	h->d.dial = ssm_dial;
	h->d.hang_up = ssm_hang_up;
	h->d.arg = h;
	h->d.trusted = 1;
	h->d.via = "SSM";
	s->hosts[s->n++] = h;
	return &h->d;
}

/* What a target gets when its dialer could not be made: a connection that
 * fails with a sentence (never a silent fall back to TCP). */
static int
nomem_dial(void *arg, int64_t deadline_ms, int *fd, void **handle, struct cut_err *err)
{
	(void)arg;
	(void)deadline_ms;
	*fd = -1;
	*handle = NULL;
	return cut_err_set(err, CUT_ENOMEM, "Out of memory preparing a Session Manager session.");
}

static const struct ssh_dialer nomem_dialer = { nomem_dial, NULL, NULL, 1, "SSM" };

static int
ssm_setup(struct fleet *f, struct cut_err *err)
{
	struct fleet_ssm *s;

	ssm_free(f);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory preparing Session Manager sessions.");
	pthread_mutex_init(&s->mu, NULL);
	s->cfg = f->cfg;
	f->ssm = s;
	for (size_t i = 0; i < f->n; i++)
		if (ssm_dialer(s, f->hosts[i].id) == NULL)
			return cut_err_set(err, CUT_ENOMEM, "Out of memory preparing Session Manager sessions.");
	return 0;
}

int
fleet_reach(struct fleet *f, char (*status)[32], struct cut_err *err)
{
	const char **ids;
	int r;

	if (f->cfg->ssh.transport != CFG_TRANSPORT_SSM) {
		for (size_t i = 0; i < f->n; i++)
			snprintf(status[i], sizeof(status[0]), "ssh");
		return 0;
	}
	if ((ids = calloc(f->n ? f->n : 1, sizeof(*ids))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory reading Systems Manager's instance list.");
	for (size_t i = 0; i < f->n; i++)
		ids[i] = f->hosts[i].id;
	r = ssm_ping_status(f->aws, ids, f->n, status, err);
	free(ids);
	for (size_t i = 0; r == 0 && i < f->n; i++)
		if (status[i][0] == '\0')
			snprintf(status[i], sizeof(status[0]), "not registered");
	return r;
}

int
fleet_open(struct fleet *f, struct cut_err *err)
{
	const struct cfg *cfg = f->cfg;
	int r;

	if (cfg->ssh.transport == CFG_TRANSPORT_SSM && (r = ssm_setup(f, err)) != 0)
		return r;

	expand_home(cfg->ssh.known_hosts, f->known_hosts, sizeof(f->known_hosts));
	if (cfg->ssh.instance_connect) {
		const char *tmp = getenv("TMPDIR");
		char p[300];
		FILE *of;

		/* Runs killed with -9 leave their private keys behind: remove
		 * those of runs that are gone before making ours. */
		(void)fleet_sweep_keydirs(tmp && tmp[0] ? tmp : "/tmp", NULL);
		snprintf(f->keydir, sizeof(f->keydir), "%s/cutover-key.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
		if (mkdtemp(f->keydir) == NULL) {
			f->keydir[0] = '\0';
			return cut_err_set(err, CUT_EIO, "Cannot create a private folder for the session key: %s; check TMPDIR.",
			    strerror(errno));
		}
		/* Who owns the folder, so a later run can tell it is stale. */
		snprintf(p, sizeof(p), "%s/owner", f->keydir);
		if ((of = fopen(p, "wxe")) != NULL) {
			fprintf(of, "%ld %llu\n", (long)getpid(), proc_start((long)getpid()));
			fclose(of);
		}
		snprintf(p, sizeof(p), "%s/id_ed25519", f->keydir);
		if ((r = fleet_keygen(p, "cutover-session", f->pubkey, sizeof(f->pubkey), err)) != 0) {
			remove_key(f);
			return r;
		}
		snprintf(f->identity, sizeof(f->identity), "%s", p);
	} else
		expand_home(cfg->ssh.identity, f->identity, sizeof(f->identity));
	return 0;
}

int
fleet_push_key(struct fleet *f, size_t i, struct cut_err *err)
{
	if (!f->cfg->ssh.instance_connect || f->pubkey[0] == '\0')
		return 0;
	return eic_send_ssh_public_key(f->aws, f->hosts[i].id, f->cfg->ssh.user, f->pubkey,
	    f->hosts[i].az[0] ? f->hosts[i].az : NULL, err);
}

void
fleet_target(const struct fleet *f, size_t i, struct rexec_target *t)
{
	memset(t, 0, sizeof(*t));
	t->ssh.host = f->hosts[i].addr;
	t->ssh.port = f->cfg->ssh.port > 0 ? f->cfg->ssh.port : 22;
	t->ssh.user = f->cfg->ssh.user;
	t->ssh.identity = f->identity[0] ? f->identity : NULL;
	t->ssh.known_hosts = f->known_hosts[0] ? f->known_hosts : NULL;
	t->sudo = f->cfg->app.sudo;
	t->label = f->hosts[i].label;
	if (f->ssm != NULL) {
		const struct ssh_dialer *d = ssm_dialer(f->ssm, f->hosts[i].id);
		/* Labels and messages name the instance, not an address nobody dials. */
		t->ssh.host = f->hosts[i].id;
		t->ssh.dialer = d != NULL ? d : &nomem_dialer;
	}
}

void
fleet_close(struct fleet *f)
{
	remove_key(f);
	ssm_free(f);
	free(f->hosts);
	f->hosts = NULL;
	f->n = 0;
}
