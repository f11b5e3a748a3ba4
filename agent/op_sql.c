/* op_sql.c: "sql" and "dbenv", SQL through the application's own database
 * settings (the RDS_* lines of the EB env file), so no database port is
 * ever opened to the operator.
 *
 * The settings reach psql through its environment (PGHOST, PGPASSWORD...),
 * never its argv, which any user on the instance can read in ps. Reads run
 * with default_transaction_read_only so a read can never write; writes run
 * in one transaction (psql --single-transaction with ON_ERROR_STOP).
 * TLS is required (PGSSLMODE=require unless the request says otherwise):
 * libpq's default, prefer, falls back to plain text and would send the
 * password in clear to anything answering on the port.
 * A script bigger than a frame comes as the request's stdin frames and
 * goes to psql as it arrives, still one script, one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "frame.h"
#include "opsutil.h"


#define SQL_TIMEOUT_DEFAULT_MS (10u * 60u * 1000u)
#define SQL_VARS_MAX 16

struct db_settings {
	char host[256], port[16], name[128], user[128], password[512];
};

/* Reads the RDS_* settings; returns 0 or -1 with why set. */
static int
db_settings_read(const char *env_file, struct db_settings *db, char *why, size_t whylen)
{
	int r;

	r = opu_envfile_get(env_file, "RDS_HOSTNAME", db->host, sizeof(db->host));
	if (r < 0) {
		snprintf(why, whylen, "cannot read the env file %s: %s", env_file, strerror(-r));
		return -1;
	}
	if (r == 0 || db->host[0] == '\0') {
		snprintf(why, whylen, "the env file %s has no RDS_HOSTNAME, so the database is unknown", env_file);
		return -1;
	}
	if (opu_envfile_get(env_file, "RDS_PORT", db->port, sizeof(db->port)) <= 0 ||
	    strcmp(db->port, "not-set") == 0 || db->port[0] == '\0')
		snprintf(db->port, sizeof(db->port), "5432");
	if (opu_envfile_get(env_file, "RDS_DB_NAME", db->name, sizeof(db->name)) <= 0 ||
	    db->name[0] == '\0') {
		snprintf(why, whylen, "the env file %s has no RDS_DB_NAME", env_file);
		return -1;
	}
	if (opu_envfile_get(env_file, "RDS_USERNAME", db->user, sizeof(db->user)) <= 0)
		db->user[0] = '\0';
	if (opu_envfile_get(env_file, "RDS_PASSWORD", db->password, sizeof(db->password)) <= 0)
		db->password[0] = '\0';
	return 0;
}

int
opu_sslmode_check(const char *sslmode, char *why, size_t whylen)
{
	if (strcmp(sslmode, "require") != 0 && strcmp(sslmode, "verify-ca") != 0 &&
	    strcmp(sslmode, "verify-full") != 0 && strcmp(sslmode, "disable") != 0) {
		snprintf(why, whylen, "the request's sslmode \"%s\" is not require, verify-ca, verify-full or disable",
		    sslmode);
		return -1;
	}
	return 0;
}

int
opu_pgenv_init(struct opu_pgenv *e, const char *env_file, int write, const char *appname,
    const char *sslmode, const char *sslrootcert, char *why, size_t whylen)
{
	struct db_settings db;
	int n = 0;
	const char *path = getenv("PATH");

	memset(e, 0, sizeof(*e));
	if (db_settings_read(env_file, &db, why, whylen) != 0)
		return -1;
	snprintf(e->s[n++], sizeof(e->s[0]), "PATH=%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
	snprintf(e->s[n++], sizeof(e->s[0]), "PGHOST=%s", db.host);
	snprintf(e->s[n++], sizeof(e->s[0]), "PGPORT=%s", db.port);
	snprintf(e->s[n++], sizeof(e->s[0]), "PGDATABASE=%s", db.name);
	if (db.user[0])
		snprintf(e->s[n++], sizeof(e->s[0]), "PGUSER=%s", db.user);
	if (db.password[0])
		snprintf(e->s[n++], sizeof(e->s[0]), "PGPASSWORD=%s", db.password);
	snprintf(e->s[n++], sizeof(e->s[0]), "PGSSLMODE=%s", sslmode && sslmode[0] ? sslmode : "require");
	if (sslrootcert && sslrootcert[0])
		snprintf(e->s[n++], sizeof(e->s[0]), "PGSSLROOTCERT=%s", sslrootcert);
	snprintf(e->s[n++], sizeof(e->s[0]), "PGCONNECT_TIMEOUT=10");
	snprintf(e->s[n++], sizeof(e->s[0]), "PGAPPNAME=%s", appname);
	/* A read can never change the database, whatever the SQL says. */
	snprintf(e->s[n++], sizeof(e->s[0]), "PGOPTIONS=-c default_transaction_read_only=%s",
	    write ? "off" : "on");
	for (int i = 0; i < n; i++)
		e->envp[i] = e->s[i];
	e->envp[n] = NULL;
	/* The password must not outlive its use in this process. */
	explicit_bzero(db.password, sizeof(db.password));
	return 0;
}

void
opu_pgenv_wipe(struct opu_pgenv *e)
{
	explicit_bzero(e, sizeof(*e));
}

struct out_relay {
	struct op_io *io;
};

static int
relay_out(void *arg, int stream, const void *buf, size_t len)
{
	struct out_relay *o = arg;

	return opu_send_out(o->io, stream, buf, len) == 0 ? 0 : -1;
}

/* "host"/"port" name another server than the env file's with the same
 * credentials (an RDS read replica shares its source's master user): a
 * host name or address and a port number, nothing psql would read as
 * more (a connection string). */
static int
host_ok(const char *h)
{
	if (h[0] == '\0' || h[0] == '-' || strlen(h) > 253)
		return 0;
	for (const char *p = h; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '.' || *p == '-' || *p == ':'))
			return 0;
	return 1;
}

static int
port_ok(const char *s)
{
	long v = 0;

	if (s[0] == '\0' || strlen(s) > 5)
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (*p - '0');
	}
	return v > 0 && v < 65536;
}

static void
pgenv_set(struct opu_pgenv *e, const char *name, const char *value)
{
	size_t n = strlen(name);

	for (int i = 0; e->envp[i]; i++)
		if (strncmp(e->s[i], name, n) == 0 && e->s[i][n] == '=') {
			snprintf(e->s[i], sizeof(e->s[0]), "%s=%s", name, value);
			return;
		}
}

int
opw_sql(const msgpack_object *req, struct op_io *io, char *why, size_t whylen)
{
	char env_file[512], psql[512], sslmode[16], sslrootcert[512], host[256], port[8];
	const char *sql;
	size_t sqllen;
	uint64_t timeout_ms;
	int write = 0, from_stdin = 0, r, wst = 0, timed_out = 0;
	static struct opu_pgenv pe;   /* the child's whole environment */
	char *argv[16 + 2 * SQL_VARS_MAX];
	static char vars[SQL_VARS_MAX][1024];
	int argc = 0;

	if ((sql = frame_get_str(req, "sql", &sqllen)) == NULL) {
		snprintf(why, whylen, "the sql request has no \"sql\" string");
		return -1;
	}
	if (opu_req_str(req, "env_file", OPU_ENV_FILE, env_file, sizeof(env_file)) < 0 ||
	    opu_req_str(req, "psql", "psql", psql, sizeof(psql)) < 0 ||
	    opu_req_str(req, "sslmode", "require", sslmode, sizeof(sslmode)) < 0 ||
	    opu_req_str(req, "sslrootcert", "", sslrootcert, sizeof(sslrootcert)) < 0 ||
	    opu_req_str(req, "host", "", host, sizeof(host)) < 0 ||
	    opu_req_str(req, "port", "", port, sizeof(port)) < 0 ||
	    opu_req_bool(req, "write", 0, &write) < 0 ||
	    opu_req_bool(req, "stdin", 0, &from_stdin) < 0 ||
	    opu_req_u64(req, "timeout_ms", SQL_TIMEOUT_DEFAULT_MS, &timeout_ms) < 0) {
		snprintf(why, whylen, "the sql request has a field of the wrong type");
		return -1;
	}
	if (opu_sslmode_check(sslmode, why, whylen) != 0)
		return -1;
	if ((host[0] && !host_ok(host)) || (port[0] && !port_ok(port))) {
		snprintf(why, whylen, "the sql request's host or port is not a plain host name and port number");
		return -1;
	}
	if (opu_pgenv_init(&pe, env_file, write, "cutover-agent", sslmode, sslrootcert, why, whylen) != 0)
		return -1;
	if (host[0])
		pgenv_set(&pe, "PGHOST", host);
	if (port[0])
		pgenv_set(&pe, "PGPORT", port);
	argv[argc++] = psql;
	argv[argc++] = "-X";
	argv[argc++] = "-q";
	argv[argc++] = "-A";
	argv[argc++] = "-t";
	argv[argc++] = "-v";
	argv[argc++] = "ON_ERROR_STOP=1";
	if (write)
		argv[argc++] = "--single-transaction";
	/* psql variables (:'name' in the SQL) quote values safely; only for
	 * plain values such as timestamps: argv is visible to ps. */
	const msgpack_object *v = frame_get(req, "vars");
	if (v != NULL && v->type == MSGPACK_OBJECT_MAP) {
		if (v->via.map.size > SQL_VARS_MAX) {
			snprintf(why, whylen, "the sql request has more than %d vars", SQL_VARS_MAX);
			opu_pgenv_wipe(&pe);
			return -1;
		}
		for (uint32_t i = 0; i < v->via.map.size; i++) {
			const msgpack_object *k = &v->via.map.ptr[i].key, *val = &v->via.map.ptr[i].val;
			if (k->type != MSGPACK_OBJECT_STR || val->type != MSGPACK_OBJECT_STR ||
			    k->via.str.size + val->via.str.size + 2 > sizeof(vars[0])) {
				snprintf(why, whylen, "the sql request's vars must map short strings to strings");
				opu_pgenv_wipe(&pe);
				return -1;
			}
			snprintf(vars[i], sizeof(vars[0]), "%.*s=%.*s", (int)k->via.str.size, k->via.str.ptr,
			    (int)val->via.str.size, val->via.str.ptr);
			argv[argc++] = "-v";
			argv[argc++] = vars[i];
		}
	}
	argv[argc++] = "-f";
	argv[argc++] = "-";
	argv[argc] = NULL;

	struct out_relay rel = { io };
	/* With "stdin", the script follows as stdin frames (more than one
	 * frame holds) and psql reads it from the worker's stdin as it comes;
	 * "sql" is then empty. */
	r = opu_spawn_fd(argv, pe.envp, sql, sqllen, from_stdin ? 0 : -1, relay_out, &rel, timeout_ms,
	    &wst, &timed_out, why, whylen);
	opu_pgenv_wipe(&pe);
	if (r != 0)
		return -1;
	if (timed_out) {
		snprintf(why, whylen, "psql did not finish within %llu ms and was stopped",
		    (unsigned long long)timeout_ms);
		return -1;
	}
	if (WIFSIGNALED(wst)) {
		snprintf(why, whylen, "psql was killed by signal %d", WTERMSIG(wst));
		return -1;
	}
	return WEXITSTATUS(wst);
}

/* The non-secret database settings: the coordinator compares endpoints
 * (is the new environment really pointed at the new database?). */
int
opw_dbenv(const msgpack_object *req, struct op_io *io, char *why, size_t whylen)
{
	char env_file[512];
	struct db_settings db;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (opu_req_str(req, "env_file", OPU_ENV_FILE, env_file, sizeof(env_file)) < 0) {
		snprintf(why, whylen, "the dbenv request's env_file is not a string");
		return -1;
	}
	if (db_settings_read(env_file, &db, why, whylen) != 0)
		return -1;
	explicit_bzero(db.password, sizeof(db.password));
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	opu_pack_head(&pk, "dbenv", io, 6);
	opu_pack_key(&pk, "host"); opu_pack_cstr(&pk, db.host);
	opu_pack_key(&pk, "port"); opu_pack_cstr(&pk, db.port);
	opu_pack_key(&pk, "name"); opu_pack_cstr(&pk, db.name);
	opu_pack_key(&pk, "user"); opu_pack_cstr(&pk, db.user);
	opu_send(io, &sb);
	msgpack_sbuffer_destroy(&sb);
	return 0;
}
