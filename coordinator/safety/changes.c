/* safety/changes.c: see safety/changes.h. */
#include "safety/changes.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/sfile.h"

/* One list for both uses; `uses` says which (the Stripe log is not an
 * entry or a payment, so fail-back has nothing to re-enter from it). */
const struct chg_table chg_tables[] = {
	{ "events_evententry", "event entries", CHG_LOST | CHG_ACTIVITY,
	  { "first_created_date", "entry_complete_date" },
	  { "event_id", "primary_entrant_id", "entry_status" } },
	{ "events_evententryplayer", "entry players", CHG_LOST | CHG_ACTIVITY,
	  { "first_created_date", "entry_complete_date" },
	  { "event_entry_id", "player_id", "paid_by_id", "payment_type", "payment_status", "entry_fee",
	    "payment_received", "batch_id" } },
	{ "payments_membertransaction", "member transactions", CHG_LOST | CHG_ACTIVITY, { "created_date" },
	  { "member_id", "amount", "balance", "type", "reference_no", "stripe_transaction_id",
	    "other_member_id", "organisation_id", "event_id", "club_session_id" } },
	{ "payments_organisationtransaction", "organisation transactions", CHG_LOST | CHG_ACTIVITY,
	  { "created_date" },
	  { "organisation_id", "member_id", "other_organisation_id", "amount", "balance", "type",
	    "reference_no", "event_id", "xero_invoice_id" } },
	{ "payments_stripetransaction", "Stripe transactions", CHG_LOST | CHG_ACTIVITY,
	  { "created_date", "last_change_date" },
	  { "member_id", "amount", "status", "stripe_reference" } },
	{ "payments_stripelog", "Stripe log", CHG_LOST, { "created_date" }, { "event_type", "cobalt_pay_id" } },
	{ "payments_userpendingpayment", "pending payments", CHG_LOST | CHG_ACTIVITY, { "created_at" },
	  { "system_number", "organisation_id", "amount", "description" } },
	{ NULL, NULL, 0, { NULL }, { NULL } },
};

void
chg_report_free(struct chg_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->rows[i].at);
		free(r->rows[i].fields);
	}
	free(r->rows);
	r->rows = NULL;
	r->n = 0;
}

/* Only what a timestamp can hold reaches psql (as a variable, quoted by
 * psql itself; this check just gives a clear message early). */
static int
valid_time(const char *s)
{
	if (strlen(s) < 10 || strlen(s) > 40)
		return 0;
	for (const char *p = s; *p; p++)
		if (!strchr("0123456789-:.+TZ ", *p))
			return 0;
	return 1;
}

static int
has_col(json_object *cols, const char *name)
{
	if (!json_object_is_type(cols, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(cols); i++)
		if (json_object_is_type(json_object_array_get_idx(cols, i), json_type_string) &&
		    strcmp(json_object_get_string(json_object_array_get_idx(cols, i)), name) == 0)
			return 1;
	return 0;
}

int
chg_collect(struct alink *l, const struct aop_conf *c, unsigned uses,
    const char *since, struct chg_report *out, struct cut_err *err)
{
	const struct chg_table *tables = chg_tables;
	json_object *cols = NULL, *j = NULL;
	char *sql = NULL;
	size_t len = 0;
	FILE *m;
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(out->since, sizeof(out->since), "%s", since);
	snprintf(out->source, sizeof(out->source), "%s", l->name);
	if (!valid_time(since))
		return cut_err_set(err, CUT_EINVAL, "'%s' is not a time; give it as ISO 8601, "
		    "e.g. 2026-11-25T10:00:00Z.", since);

	/* The table names are constants of this file, never user input. */
	m = open_memstream(&sql, &len);
	fputs("SELECT coalesce(jsonb_object_agg(table_name, cols), '{}'::jsonb) FROM (SELECT table_name::text,"
	    " jsonb_agg(column_name::text) AS cols FROM information_schema.columns"
	    " WHERE table_schema = current_schema() AND table_name IN (", m);
	int n = 0;
	for (const struct chg_table *t = tables; t->table; t++)
		if (t->uses & uses)
			fprintf(m, "%s'%s'", n++ ? ", " : "", t->table);
	fputs(") GROUP BY table_name) x;\n", m);
	fclose(m);
	r = aop_sql(l, c, sql, 0, NULL, &cols, err);
	free(sql);
	sql = NULL;
	if (r != 0)
		return cut_err_wrap(err, "Listing the tables to check");
	for (const struct chg_table *t = tables; t->table; t++) {
		json_object *tc;
		if (!(t->uses & uses))
			continue;
		if (!json_object_object_get_ex(cols, t->table, &tc)) {
			json_object_put(cols);
			return cut_err_set(err, CUT_ESTATE, "The database behind %s has no table %s; "
			    "check the environment points at a Cobalt database.", l->name, t->table);
		}
	}

	m = open_memstream(&sql, &len);
	fputs("SELECT jsonb_build_object(", m);
	int first = 1;
	for (const struct chg_table *t = tables; t->table; t++) {
		json_object *tc = json_object_object_get(cols, t->table);
		int nts = 0;
		if (!(t->uses & uses))
			continue;
		fprintf(m, "%s'%s', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'at', "
		    "to_char(greatest(", first ? "" : ",\n", t->table);
		first = 0;
		for (int i = 0; t->ts[i]; i++)
			if (has_col(tc, t->ts[i]))
				fprintf(m, "%s%s", nts++ ? ", " : "", t->ts[i]);
		if (nts == 0) {
			fclose(m);
			free(sql);
			json_object_put(cols);
			return cut_err_set(err, CUT_ESTATE, "The table %s behind %s has none of its timestamp "
			    "columns; cutover cannot tell what was written when.", t->table, l->name);
		}
		fputs(") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'f', jsonb_build_array(", m);
		int nk = 0;
		for (int i = 0; t->keys[i]; i++)
			if (has_col(tc, t->keys[i]))
				fprintf(m, "%s'%s', %s::text", nk++ ? ", " : "", t->keys[i], t->keys[i]);
		fprintf(m, ")) ORDER BY id), '[]'::jsonb) FROM %s WHERE ", t->table);
		nts = 0;
		for (int i = 0; t->ts[i]; i++)
			if (has_col(tc, t->ts[i]))
				fprintf(m, "%s%s > :'since'::timestamptz", nts++ ? " OR " : "", t->ts[i]);
		fputs(")", m);
	}
	fputs(");\n", m);
	fclose(m);
	json_object_put(cols);
	const char *vars[] = { "since", since, NULL };
	r = aop_sql(l, c, sql, 0, vars, &j, err);
	free(sql);
	if (r != 0)
		return cut_err_wrap(err, "Reading rows written since %s", since);

	for (const struct chg_table *t = tables; t->table; t++) {
		if (!(t->uses & uses))
			continue;
		json_object *arr = json_object_object_get(j, t->table);
		size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
		struct chg_row *nr = realloc(out->rows, (out->n + n + 1) * sizeof(*nr));
		if (nr == NULL)
			goto oom;
		out->rows = nr;
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_array_get_idx(arr, i), *f;
			struct chg_row *row = &out->rows[out->n];
			char *fs = NULL;
			size_t fl = 0;
			FILE *fm = open_memstream(&fs, &fl);
			row->table = t->table;
			row->id = json_object_get_int64(json_object_object_get(o, "id"));
			/* "at" is null when every timestamp column of the row is. */
			json_object *at = json_object_object_get(o, "at");
			row->at = strdup(json_object_is_type(at, json_type_string) ? json_object_get_string(at) : "");
			f = json_object_object_get(o, "f");
			if (!json_object_is_type(f, json_type_array))
				f = NULL;
			for (size_t k = 0; f && k + 1 < json_object_array_length(f); k += 2) {
				json_object *v = json_object_array_get_idx(f, k + 1);
				json_object *n = json_object_array_get_idx(f, k);
				fprintf(fm, "%s%s=%s", k ? "; " : "",
				    json_object_is_type(n, json_type_string) ? json_object_get_string(n) : "?",
				    v ? json_object_get_string(v) : "");
			}
			fclose(fm);
			row->fields = fs;
			out->n++;
			if (row->at == NULL || row->fields == NULL)
				goto oom;
		}
	}
	json_object_put(j);
	return 0;
oom:
	json_object_put(j);
	chg_report_free(out);
	return cut_err_set(err, CUT_ENOMEM, "Out of memory collecting rows.");
}

static int
collect_titled(struct alink *l, const struct aop_conf *c, unsigned tables,
    const char *since, const char *title, const char *zero, struct chg_report *out,
    struct cut_err *err)
{
	int r = chg_collect(l, c, tables, since, out, err);

	out->title = title;
	out->zero = zero;
	return r;
}

int
chg_lost_writes(struct alink *l, const struct aop_conf *c, const char *snapshot_time,
    struct chg_report *out, struct cut_err *err)
{
	return collect_titled(l, c, CHG_LOST, snapshot_time, "Lost writes",
	    "No rows were written to the live database after the snapshot: nothing was lost.", out, err);
}

int
chg_activity(struct alink *l, const struct aop_conf *c, const char *since,
    struct chg_report *out, struct cut_err *err)
{
	return collect_titled(l, c, CHG_ACTIVITY, since, "Activity on the new system",
	    "No entries or payments were made on the new system in that time.", out, err);
}

static const char *
label_of(const char *table)
{
	for (const struct chg_table *t = chg_tables; t->table; t++)
		if (strcmp(t->table, table) == 0)
			return t->label;
	return table;
}

void
chg_print(FILE *f, const struct chg_report *r)
{
	fprintf(f, "%s on %s since %s: %zu row%s\n", r->title ? r->title : "Rows", r->source,
	    r->since, r->n, r->n == 1 ? "" : "s");
	if (r->n == 0) {
		fprintf(f, "%s\n", r->zero ? r->zero : "None.");
		return;
	}
	fprintf(f, "%-34s %8s  %-20s  %s\n", "TABLE", "ID", "WHEN (UTC)", "FIELDS");
	for (size_t i = 0; i < r->n; i++) {
		/* The fields are the database's text: escape what a terminal
		 * would act on. */
		fprintf(f, "%-34s %8lld  %-20s  ", r->rows[i].table, r->rows[i].id, r->rows[i].at);
		sfile_term_str(f, r->rows[i].fields);
		fputc('\n', f);
	}
}

int
chg_write_csv(const char *path, const struct chg_report *r, struct cut_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (m == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory writing %s.", path);
	fputs("table,id,at,fields\r\n", m);
	for (size_t i = 0; i < r->n; i++) {
		sfile_csv_field(m, r->rows[i].table);
		fprintf(m, ",%lld,", r->rows[i].id);
		sfile_csv_field(m, r->rows[i].at);
		fputc(',', m);
		sfile_csv_field(m, r->rows[i].fields);
		fputs("\r\n", m);
	}
	fclose(m);
	int rc = sfile_write(path, buf, len, err);
	free(buf);
	return rc;
}

static void
md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|' || *s == '\\' || *s == '`' || *s == '*' || *s == '_')
			fputc('\\', f);
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
	}
}

char *
chg_markdown(const struct chg_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (m == NULL)
		return NULL;
	fprintf(m, "## %s\n\n", r->title ? r->title : "Rows");
	fprintf(m, "Database of %s, rows written after %s (UTC times).\n\n", r->source, r->since);
	if (r->n == 0) {
		fprintf(m, "**%s**\n", r->zero ? r->zero : "None.");
	} else {
		fprintf(m, "**%zu row%s.**\n\n| What | Table | Id | When | Fields |\n|---|---|---:|---|---|\n",
		    r->n, r->n == 1 ? "" : "s");
		for (size_t i = 0; i < r->n; i++) {
			fprintf(m, "| %s | `%s` | %lld | %s | ", label_of(r->rows[i].table), r->rows[i].table,
			    r->rows[i].id, r->rows[i].at);
			md_cell(m, r->rows[i].fields);
			fputs(" |\n", m);
		}
	}
	fclose(m);
	return buf;
}

void
chg_time_iso(int64_t unix_s, char out[32])
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
chg_count(const struct chg_report *r, size_t *entries, size_t *payments)
{
	*entries = *payments = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (strncmp(r->rows[i].table, "events_", 7) == 0)
			(*entries)++;
		else if (strncmp(r->rows[i].table, "payments_", 9) == 0)
			(*payments)++;
	}
}
