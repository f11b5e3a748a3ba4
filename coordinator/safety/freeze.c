/* safety/freeze.c: see safety/freeze.h. */
#include "safety/freeze.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
frz_value_ok(const char *s)
{
	static const char *const ok[] = { "on", "off", "true", "false", NULL };

	for (int i = 0; s && ok[i]; i++)
		if (strcmp(s, ok[i]) == 0)
			return 1;
	return 0;
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

/* pg_db_role_setting, not SHOW: this session's own value is set by the
 * agent (PGOPTIONS) and says nothing of what the app's sessions get. */
#define FRZ_VALUE_SQL "coalesce((SELECT substr(c, length("\
	"'default_transaction_read_only=') + 1) FROM pg_db_role_setting s, unnest(s.setconfig) c"\
	" WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())"\
	" AND s.setrole = 0 AND c LIKE 'default\\_transaction\\_read\\_only=%' LIMIT 1), '')"

int
frz_read(struct alink *l, const struct aop_conf *c, char *value, size_t len, struct cut_err *err)
{
	static const char sql[] = "SELECT jsonb_build_object('value', " FRZ_VALUE_SQL ");\n";
	json_object *j = NULL;
	const char *v;
	int r;

	if ((r = aop_sql(l, c, sql, 0, NULL, &j, err)) != 0)
		return cut_err_wrap(err, "Reading whether the database behind %s refuses writes", l->name);
	v = jstr(j, "value");
	if (v == NULL || (size_t)snprintf(value, len, "%s", v) >= len) {
		json_object_put(j);
		return cut_err_set(err, CUT_EPROTO, "The database behind %s gave an unexpected "
		    "default_transaction_read_only setting; look at it with psql.", l->name);
	}
	json_object_put(j);
	return 0;
}

int
frz_set(struct alink *l, const struct aop_conf *c, const char *value, struct frz_point *out,
    struct cut_err *err)
{
	char sql[512];
	json_object *j = NULL, *v;
	const char *s;
	int r;

	memset(out, 0, sizeof(*out));
	if (value != NULL && !frz_value_ok(value))
		return cut_err_set(err, CUT_EINVAL, "'%.40s' is not a value cutover sets for "
		    "default_transaction_read_only; use on or off.", value);
	/* The value is one of frz_value_ok's constants; the database is the
	 * session's own, quoted by format(). Its own transaction: the sessions
	 * started after this commits get the new default. */
	if (value)
		snprintf(sql, sizeof(sql), "DO $cut$BEGIN EXECUTE format('ALTER DATABASE %%I SET "
		    "default_transaction_read_only = %s', current_database()); END$cut$;\n"
		    "SELECT jsonb_build_object('ok', true);\n", value);
	else
		snprintf(sql, sizeof(sql), "DO $cut$BEGIN EXECUTE format('ALTER DATABASE %%I RESET "
		    "default_transaction_read_only', current_database()); END$cut$;\n"
		    "SELECT jsonb_build_object('ok', true);\n");
	if ((r = aop_sql(l, c, sql, 1, NULL, &j, err)) != 0)
		return cut_err_wrap(err, "Changing default_transaction_read_only of the database behind %s",
		    l->name);
	json_object_put(j);
	j = NULL;
	/* Every session that began before that commit still has the old
	 * default, so they all end (in flight: rolled back, the client gets an
	 * error); the app reconnects with the new one. Ours is left, and so are
	 * RDS's own (rdsadmin). The setting is read back in the same statement
	 * (a session begun after the commit), so the caller needs no second
	 * round trip to see that it took. */
	static const char end_sql[] =
	    "SELECT jsonb_build_object('value', " FRZ_VALUE_SQL ","
	    " 'ended', (SELECT count(*) FILTER (WHERE t) FROM (SELECT "
	    "pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE datname = current_database()"
	    " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
	    " AND usename IS DISTINCT FROM 'rdsadmin') x),"
	    " 'at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
	    " 'unix', floor(extract(epoch FROM clock_timestamp()))::bigint,"
	    " 'lsn', pg_current_wal_lsn()::text);\n";
	if ((r = aop_sql(l, c, end_sql, 0, NULL, &j, err)) != 0)
		return cut_err_wrap(err, "Ending the sessions on the database behind %s", l->name);
	if ((s = jstr(j, "at")) != NULL)
		snprintf(out->at, sizeof(out->at), "%s", s);
	if ((s = jstr(j, "lsn")) != NULL)
		snprintf(out->lsn, sizeof(out->lsn), "%s", s);
	if ((s = jstr(j, "value")) == NULL || (size_t)snprintf(out->value, sizeof(out->value), "%s",
	    s) >= sizeof(out->value)) {
		json_object_put(j);
		return cut_err_set(err, CUT_EPROTO, "The database behind %s gave an unexpected "
		    "default_transaction_read_only setting; look at it with psql.", l->name);
	}
	if (json_object_object_get_ex(j, "ended", &v))
		out->ended = (long)json_object_get_int64(v);
	if (json_object_object_get_ex(j, "unix", &v))
		out->unix_s = json_object_get_int64(v);
	json_object_put(j);
	if (out->at[0] == '\0' || out->unix_s <= 0)
		return cut_err_set(err, CUT_EPROTO, "The database behind %s did not say when the change "
		    "took effect; look at it with psql.", l->name);
	return 0;
}

int
frz_stats(struct alink *l, const struct aop_conf *c, struct frz_stat **out, size_t *n,
    struct cut_err *err)
{
	/* query_to_xml runs one count per table inside this read-only
	 * statement, with the names quoted by format(): no function is
	 * created, so it works on a frozen database. */
	static const char sql[] =
	    "SELECT coalesce(jsonb_agg(jsonb_build_array(t.table_name::text,"
	    " (xpath('/row/n/text()', x))[1]::text, coalesce((xpath('/row/m/text()', x))[1]::text, ''))"
	    " ORDER BY t.table_name::text), '[]'::jsonb)"
	    " FROM information_schema.tables t CROSS JOIN LATERAL query_to_xml(format("
	    "'SELECT count(*) AS n, %s AS m FROM %I.%I', CASE WHEN EXISTS (SELECT 1 FROM"
	    " information_schema.columns k WHERE k.table_schema = t.table_schema AND k.table_name ="
	    " t.table_name AND k.column_name = 'id') THEN 'max(id)::text' ELSE 'NULL::text' END,"
	    " t.table_schema, t.table_name), false, true, '') AS x"
	    " WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE';\n";
	json_object *j = NULL;
	size_t k, len;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = aop_sql(l, c, sql, 0, NULL, &j, err)) != 0)
		return cut_err_wrap(err, "Counting the rows of the database behind %s", l->name);
	if (!json_object_is_type(j, json_type_array)) {
		json_object_put(j);
		return cut_err_set(err, CUT_EPROTO, "The database behind %s gave no table list.", l->name);
	}
	len = json_object_array_length(j);
	if ((*out = calloc(len + 1, sizeof(**out))) == NULL) {
		json_object_put(j);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory counting rows.");
	}
	for (k = 0; k < len; k++) {
		json_object *row = json_object_array_get_idx(j, k);
		struct frz_stat *st = &(*out)[k];
		const char *name = json_object_get_string(json_object_array_get_idx(row, 0));
		const char *rows = json_object_get_string(json_object_array_get_idx(row, 1));
		const char *max = json_object_get_string(json_object_array_get_idx(row, 2));

		if (name == NULL || rows == NULL ||
		    (size_t)snprintf(st->table, sizeof(st->table), "%s", name) >= sizeof(st->table) ||
		    (size_t)snprintf(st->max_id, sizeof(st->max_id), "%s", max ? max : "") >=
		    sizeof(st->max_id)) {
			free(*out);
			*out = NULL;
			json_object_put(j);
			return cut_err_set(err, CUT_EPROTO, "The database behind %s gave a table cutover "
			    "cannot read (%.64s).", l->name, name ? name : "no name");
		}
		st->rows = atoll(rows);
	}
	*n = len;
	json_object_put(j);
	return 0;
}

int
frz_replica(struct alink *l, const struct aop_conf *c, const char *host, int port,
    struct frz_replica *out, struct cut_err *err)
{
	static const char live_sql[] = "SELECT jsonb_build_object('lsn', pg_current_wal_lsn()::text,"
	    " 'unix', floor(extract(epoch FROM clock_timestamp()))::bigint);\n";
	/* pg_last_wal_replay_lsn() stays at the last record replayed once the
	 * replica is promoted, so the comparison still means something then. */
	static const char rep_sql[] =
	    "SELECT jsonb_build_object('recovery', pg_is_in_recovery(),"
	    " 'replay', coalesce(pg_last_wal_replay_lsn()::text, ''),"
	    " 'behind', coalesce(pg_wal_lsn_diff(:'live', pg_last_wal_replay_lsn())::bigint, -1));\n";
	struct aop_conf rc;
	json_object *j = NULL, *v;
	const char *s;
	const char *vars[3];
	int r;

	memset(out, 0, sizeof(*out));
	out->behind = -1;
	if ((r = aop_sql(l, c, live_sql, 0, NULL, &j, err)) != 0)
		return cut_err_wrap(err, "Reading the WAL position of the database behind %s", l->name);
	s = jstr(j, "lsn");
	if (s == NULL || (size_t)snprintf(out->live_lsn, sizeof(out->live_lsn), "%s", s) >=
	    sizeof(out->live_lsn) || s[0] == '\0') {
		json_object_put(j);
		return cut_err_set(err, CUT_EPROTO, "The database behind %s gave no WAL position; "
		    "look at it with psql.", l->name);
	}
	if (json_object_object_get_ex(j, "unix", &v))
		out->live_unix = json_object_get_int64(v);
	json_object_put(j);
	j = NULL;
	rc = c ? *c : (struct aop_conf){ 0 };
	rc.db_host = host;
	rc.db_port = port;
	vars[0] = "live";
	vars[1] = out->live_lsn;
	vars[2] = NULL;
	if ((r = aop_sql(l, &rc, rep_sql, 0, vars, &j, err)) != 0)
		return cut_err_wrap(err, "Reading the read replica %s from %s", host, l->name);
	if ((s = jstr(j, "replay")) != NULL)
		snprintf(out->replay_lsn, sizeof(out->replay_lsn), "%s", s);
	if (json_object_object_get_ex(j, "recovery", &v))
		out->in_recovery = json_object_get_boolean(v);
	if (json_object_object_get_ex(j, "behind", &v))
		out->behind = json_object_get_int64(v);
	json_object_put(j);
	return 0;
}
