/* Unit tests for the engine and the runbook's steps, against the in-memory
 * world (tests/support/fakeworld.c): order, end state, resume after a
 * crash at every step boundary (a forked child SIGKILLs itself there),
 * preflight, --until, --dry-run, confirmation, Ctrl-C, fail-back, tidy,
 * prep and rehearse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "runbook/engine.h"
#include "enginerun.h"
#include "runbook/journal.h"
#include "runbook/report.h"
#include "runbook/tables.h"

#define GREEN_CNAME "cobalt-production-green.ap-southeast-2.elasticbeanstalk.com"
#define BLUE_CNAME "cobalt-production-blue.ap-southeast-2.elasticbeanstalk.com"
#define SES_BLUE_CNAME "cobalt-ses-production-blue.ap-southeast-2.elasticbeanstalk.com"

static void
assert_run_end_state(struct enginerun *h)
{
	struct fakeworld *fw = h->fw;
	const struct world_rrset *rr;
	struct fw_db *db;

	assert_int_equal(fw->snapshots_created, 1);
	assert_int_equal(fw->restores, 1);
	assert_int_equal(fw->dns_changes, 1);
	assert_int_equal(fw->conversions, 1);
	rr = fakeworld_rr(fw, "myabf.com.au.");
	assert_string_equal(rr->alias_dns, GREEN_CNAME ".");
	rr = fakeworld_rr(fw, "www.myabf.com.au.");
	assert_string_equal(rr->alias_dns, GREEN_CNAME ".");
	rr = fakeworld_rr(fw, "ses.myabf.com.au.");
	assert_string_equal(rr->value, SES_BLUE_CNAME);
	assert_int_equal(rr->ttl, 300);
	db = fakeworld_db(fw, "cobalt-production-green");
	assert_non_null(db);
	assert_string_equal(db->klass, "db.t3.small");
	assert_string_equal(fakeworld_var(fw, "cobalt-production-green", "RDS_HOSTNAME"),
	    db->endpoint);
	assert_string_equal(fakeworld_var(fw, "cobalt-ses-production-blue", "RDS_HOSTNAME"),
	    db->endpoint);
	assert_string_equal(fakeworld_var(fw, "cobalt-production-green", "RDS_DB_NAME"), "ebdb");
	assert_null(fakeworld_var(fw, "cobalt-production-green", "MP_USE_DJANGO"));
	assert_string_equal(fakeworld_var(fw, "cobalt-production-green", "MAINTENANCE_MODE"), "OFF");
	assert_string_equal(fakeworld_var(fw, "cobalt-ses-production-blue", "MAINTENANCE_MODE"), "OFF");
	assert_string_equal(fakeworld_var(fw, "cobalt-production-blue", "MAINTENANCE_MODE"), "ON");
	assert_string_equal(fakeworld_var(fw, "cobalt-ses-production-green", "MAINTENANCE_MODE"), "ON");
	assert_int_equal(fakeworld_env(fw, "cobalt-production-blue")->max_size, 1);
	assert_true(fakeworld_env(fw, "cobalt-production-blue")->cron_paused);
	/* the old database is untouched */
	assert_string_equal(fakeworld_db(fw, "production-blue")->status, "available");
	assert_int_equal(fw->db_deletes, 0);
	assert_int_equal(fw->emails_added, 1);
	/* the copied blocked emails left the new database once, before migrate
	 * (the fake world's migrate fails while they are there, as 0055 does on
	 * production-shaped data) */
	assert_true(fw->blocked_cleared);
	assert_int_equal(fw->blocked_clears, 1);
	/* issue 12: the old database stays frozen; the copy, frozen by the
	 * snapshot, takes writes (its setting gone, as the live one had none) */
	assert_string_equal(fakeworld_db(fw, "production-blue")->data.read_only, "on");
	assert_string_equal(db->data.read_only, "");
	assert_int_equal(fakeworld_app_write(fw, "cobalt-production-blue", 2), -1);
	assert_int_equal(fakeworld_app_write(fw, "cobalt-production-green", 2), 0);
}

/* The steps are journalled done in the runbook's order and the world ends
 * as the runbook says. */
static void
test_run_order_and_end_state(void **state)
{
	struct enginerun h;
	struct cut_err err;
	const struct runbook *rb = runbook_find("run");
	char *j, *p;
	size_t i;

	(void)state;
	enginerun_init(&h, 1);
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_run_end_state(&h);
	j = enginerun_journal(&h);
	p = j;
	for (i = 0; i < rb->nsteps; i++) {
		char want[128];
		snprintf(want, sizeof(want), "\"ev\":\"step-done\",\"step\":\"%s\"", rb->steps[i]->name);
		p = strstr(p, want);
		assert_non_null(p);
	}
	/* the exact old records were recorded before the change */
	assert_non_null(strstr(j, "\"old.apex.alias_dns\":\"" BLUE_CNAME ".\""));
	assert_non_null(strstr(j, "\"ev\":\"downtime-begin\""));
	assert_non_null(strstr(j, "\"ev\":\"downtime-end\""));
	assert_null(strstr(j, "hunter2"));
	assert_non_null(strstr(h.out, "finished: every step is done"));
	free(j);

	/* a rerun changes nothing */
	int before = h.fw->mutations;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_int_equal(h.fw->mutations, before);
	assert_non_null(strstr(h.out, "done earlier"));
	enginerun_done(&h);
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL)
		n++, hay++;
	return n;
}

/* Kill the tool at every step boundary and in every wait, rerun, and check
 * the same end state with exactly one snapshot, restore, DNS change and
 * conversion, and the downtime window recorded exactly once (a kill between
 * maint-on's step-applied and its downtime-begin, or between maint-off's
 * step-done and its downtime-end, used to lose it). */
static void
test_crash_at_every_point(void **state)
{
	static const char *const points[] = { "before", "recorded", "apply", "applied", "wait",
	    "waited", "wait2", "waited2", "done" };
	/* The steps that wait for two things (two environments). */
	static const char *const two_waits[] = { "maint-on", "point-new", "maint-off" };
	const struct runbook *rb = runbook_find("run");
	size_t i, k, npoints = sizeof(points) / sizeof(points[0]);
	int crashed = 0, want = 0;

	(void)state;
	for (i = 0; i < rb->nsteps; i++) {
		const struct step_entry *st = rb->steps[i];
		int twice = 0;

		for (k = 0; k < sizeof(two_waits) / sizeof(two_waits[0]); k++)
			twice |= strcmp(st->name, two_waits[k]) == 0;
		for (k = 0; k < npoints; k++) {
			const char *p = points[k];
			int reach = strcmp(p, "recorded") == 0 ? st->record != NULL :
			    strncmp(p, "wait", 4) == 0 ? st->wait != NULL && (p[strlen(p) - 1] != '2' || twice) : 1;
			struct enginerun h;
			struct cut_err err;
			char at[96], *j;
			int rc;

			enginerun_init(&h, 1);
			snprintf(at, sizeof(at), "%s:%s", st->name, p);
			h.crash_at = at;
			rc = enginerun_fork(&h, "run");
			if (rc != (reach ? 137 : 0))
				fail_msg("run with the hook at %s ended %d", at, rc);
			crashed += rc == 137;
			want += reach;
			h.crash_at = NULL;
			if (enginerun_cmd(&h, "run", &err) != 0)
				fail_msg("rerun after crash at %s failed: %s", at, err.msg);
			assert_run_end_state(&h);
			j = enginerun_journal(&h);
			if (count(j, "\"ev\":\"downtime-begin\"") != 1 ||
			    count(j, "\"ev\":\"downtime-end\"") != 1)
				fail_msg("after a crash at %s the journal has %d downtime-begin and %d "
				    "downtime-end", at, count(j, "\"ev\":\"downtime-begin\""),
				    count(j, "\"ev\":\"downtime-end\""));
			if (rc == 137 && strstr(h.out, "Resuming `cutover run`") == NULL)
				fail_msg("the rerun after %s does not say it resumes: %s", at, h.out);
			free(j);
			enginerun_done(&h);
		}
	}
	assert_int_equal(crashed, want);
	assert_true(crashed >= (int)rb->nsteps * 5);
}

/* A run that dies in apply() before journalling it: the rerun finds the
 * change made and journals step-applied itself, so the journal says what
 * happened and a STEP_F_ONCE step is known applied. */
static void
test_found_applied_journalled(void **state)
{
	struct enginerun h;
	struct cut_err err;
	char *j;

	(void)state;
	enginerun_init(&h, 1);
	h.fw->slow = 20;      /* the snapshot is still creating when the rerun checks */
	h.crash_at = "snapshot:apply";
	assert_int_equal(enginerun_fork(&h, "run"), 137);
	h.crash_at = "snapshot:applied";
	assert_int_equal(enginerun_fork(&h, "run"), 137);
	j = enginerun_journal(&h);
	assert_non_null(strstr(j, "found applied by an earlier run"));
	free(j);
	h.crash_at = NULL;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_run_end_state(&h);
	enginerun_done(&h);
}

/* A crash twice in a row (same step, deeper point) still converges. */
static void
test_double_crash(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	enginerun_init(&h, 1);
	h.crash_at = "dns-switch:apply";
	assert_int_equal(enginerun_fork(&h, "run"), 137);
	h.crash_at = "convert-users:apply";
	assert_int_equal(enginerun_fork(&h, "run"), 137);
	h.crash_at = NULL;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_run_end_state(&h);
	enginerun_done(&h);
}

/* A change the journal says was made but the world does not show is never
 * made again: the run stops and says so. */
static void
test_once_refusal(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	enginerun_init(&h, 1);
	h.crash_at = "snapshot:applied";
	assert_int_equal(enginerun_fork(&h, "run"), 137);
	h.crash_at = NULL;
	for (int i = 0; i < FW_SNAPS; i++)
		h.fw->snaps[i].exists = 0;    /* someone deleted it meanwhile */
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "Step snapshot was applied by an earlier run"));
	assert_non_null(strstr(err.msg, "never applied twice"));
	assert_int_equal(h.fw->snapshots_created, 1);
	enginerun_done(&h);
}

/* A torn journal line after a crash is dropped and the run resumes. */
static void
test_torn_journal_resume(void **state)
{
	struct enginerun h;
	struct cut_err err;
	char p[512];
	FILE *f;

	(void)state;
	enginerun_init(&h, 1);
	h.crash_at = "snapshot:applied";
	assert_int_equal(enginerun_fork(&h, "run"), 137);
	snprintf(p, sizeof(p), "%s/journal.jsonl", h.dir);
	f = fopen(p, "a");
	fputs("{\"v\":1,\"ms\":1,\"ev\":\"step-done\",\"step\":\"resto", f);
	fclose(f);
	h.crash_at = NULL;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_run_end_state(&h);
	char *j = enginerun_journal(&h);
	assert_non_null(strstr(j, "torn last line"));
	free(j);
	enginerun_done(&h);
}

/* Two runs at once: the second refuses, naming the first, changing nothing. */
static void
test_lock_refusal(void **state)
{
	struct enginerun h;
	struct journal *held;
	struct cut_err err;
	char want[64];

	(void)state;
	enginerun_init(&h, 1);
	assert_int_equal(journal_open(h.dir, "run", &held, &err), 0);
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_ESTATE);
	snprintf(want, sizeof(want), "pid %ld", (long)getpid());
	assert_non_null(strstr(err.msg, want));
	assert_int_equal(h.fw->mutations, 0);
	journal_close(held);
	enginerun_done(&h);
}

/* A failed preflight changes nothing and lists every problem. */
static void
test_preflight_failure(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	enginerun_init(&h, 1);
	snprintf(fakeworld_env(h.fw, "cobalt-production-green")->version, 128, "v6.3.18");
	snprintf(fakeworld_env(h.fw, "cobalt-ses-production-green")->status, 32, "Updating");
	h.fw->ssh_fail = 1;
	/* the snapshot name is taken */
	assert_int_equal(h.w->snapshot_create(h.w, "production-blue", "cutover-production-blue",
	    &err), 0);
	int before = h.fw->mutations;
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_ESTATE);
	assert_int_equal(h.fw->mutations, before);
	if (strstr(err.msg, "Preflight found 4 problems") == NULL)
		fail_msg("%s\n%s", err.msg, h.out);
	assert_non_null(strstr(err.msg, "nothing was changed"));
	assert_non_null(strstr(h.out, "runs version v6.3.18, not v6.3.20"));
	assert_non_null(strstr(h.out, "cobalt-ses-production-green is Updating, not Ready"));
	assert_non_null(strstr(h.out, "SSH"));
	assert_non_null(strstr(h.out, "snapshot named cutover-production-blue already exists"));
	char *j = enginerun_journal(&h);
	char *last = strstr(j, "\"cmd\":\"run\"");    /* the refused run (after prep's) */
	assert_non_null(last);
	assert_null(strstr(last, "step-begin"));
	assert_non_null(strstr(last, "\"status\":\"refused\""));
	free(j);
	enginerun_done(&h);
}

/* The configured live colour is not what DNS says. */
static void
test_preflight_wrong_live(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	enginerun_init(&h, 1);
	strcat(h.dir, "2");    /* a cutover that has not begun */
	/* the configuration got the colours the wrong way round */
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s", h.names.live_web);
	snprintf(h.names.live_web, sizeof(h.names.live_web), "%s", h.names.new_web);
	snprintf(h.names.new_web, sizeof(h.names.new_web), "%s", tmp);
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_ESTATE);
	assert_non_null(strstr(h.out, "DNS sends myabf.com.au. to " BLUE_CNAME));
	assert_int_equal(h.fw->mutations, 0);
	enginerun_done(&h);
}

static void
test_until(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	enginerun_init(&h, 1);
	h.opts.until = "snapshot";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_int_equal(h.fw->snapshots_created, 1);
	assert_int_equal(h.fw->restores, 0);
	assert_non_null(strstr(h.out, "stopped after snapshot as asked"));
	char *j = enginerun_journal(&h);
	assert_null(strstr(j, "\"step\":\"restore\""));
	assert_non_null(strstr(j, "\"status\":\"until\""));
	free(j);
	h.opts.until = NULL;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_run_end_state(&h);

	h.opts.until = "no-such-step";
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_EINVAL);
	assert_non_null(strstr(err.msg, "its steps are: scale-live, maint-on"));
	enginerun_done(&h);
}

static void
test_dry_run(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	enginerun_init(&h, 1);
	h.opts.dry_run = 1;
	strcat(h.dir, "2");    /* a cutover that has not begun */
	if (enginerun_cmd(&h, "run", &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(h.fw->mutations, 0);
	assert_non_null(strstr(h.out, "dry-run snapshot: would take snapshot cutover-production-blue"));
	assert_non_null(strstr(h.out, "[irreversible: asks first]"));
	assert_non_null(strstr(h.out, "dry-run scale-live: would scale cobalt-production-blue from 1-4"));
	/* before dns-switch, the INSYNC wait is still to come, not "already done" */
	assert_non_null(strstr(h.out, "dry-run dns-insync: would wait until Route 53 has applied "
	    "dns-switch's change everywhere (INSYNC)"));
	/* no journal, no state folder */
	assert_int_equal(access(h.dir, F_OK), -1);
	enginerun_done(&h);
}

/* Without --yes and without a terminal the DNS step refuses, after the
 * earlier steps, changing no DNS; with a terminal typing yes it goes on. */
static void
test_confirmation(void **state)
{
	struct enginerun h;
	struct cut_err err;
	int p[2];

	(void)state;
	enginerun_init(&h, 1);
	assert_int_equal(pipe(p), 0);
	h.opts.yes = 0;
	h.opts.confirm_fd = p[0];
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_ECANCEL);
	assert_non_null(strstr(err.msg, "standard input is not a terminal; run again with --yes"));
	assert_int_equal(h.fw->dns_changes, 0);
	assert_int_equal(h.fw->restores, 1);
	assert_non_null(strstr(h.out, "to resume from here"));
	close(p[0]);
	close(p[1]);

	/* a terminal: answer "no" first, then "yes" */
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	assert_true(s >= 0);
	h.opts.confirm_fd = s;
	assert_int_equal(write(m, "no\n", 3), 3);
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_ECANCEL);
	assert_non_null(strstr(err.msg, "was not confirmed"));
	assert_int_equal(h.fw->dns_changes, 0);
	assert_int_equal(write(m, "yes\n", 4), 4);
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_non_null(strstr(h.out, "type yes to go on"));
	assert_run_end_state(&h);
	close(s);
	close(m);
	enginerun_done(&h);
}

/* Ctrl-C during a wait: stops cleanly, says how to resume; the rerun finishes. */
static void
test_ctrl_c(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	enginerun_init(&h, 1);
	engine_catch_signals();
	h.fw->sigint_at_poll = 30;
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_ECANCEL);
	assert_true(engine_interrupted());
	assert_non_null(strstr(h.out, "Run `cutover run` again"));
	char *j = enginerun_journal(&h);
	assert_non_null(strstr(j, "\"status\":\"stopped\""));
	free(j);
	engine_set_interrupted(0);
	h.fw->sigint_at_poll = 0;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_run_end_state(&h);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	enginerun_done(&h);
}

/* A second Ctrl-C stops at once (exit 130); the journal makes that safe. */
static void
test_second_ctrl_c(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 2);
		engine_catch_signals();
		raise(SIGINT);
		if (!engine_interrupted())
			_exit(1);
		raise(SIGINT);
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 130);
}

/* A failing smoke test stops the run before maintenance mode is lifted. */
static void
test_smoke_failure_stops(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	enginerun_init(&h, 1);
	h.fw->smoke_fail = 1;
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_EREMOTE);
	assert_non_null(strstr(err.msg, "stays in maintenance mode"));
	assert_string_equal(fakeworld_var(h.fw, "cobalt-production-green", "MAINTENANCE_MODE"), "ON");
	char *j = enginerun_journal(&h);
	assert_non_null(strstr(j, "\"ev\":\"step-failed\",\"step\":\"smoke-test\""));
	free(j);
	h.fw->smoke_fail = 0;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_run_end_state(&h);
	enginerun_done(&h);
}

#define LIVE_DB_HOST "production-blue.c97jawiow7ed.fake.rds"

static void
set_env_var(struct fakeworld *fw, const char *env, const char *name, const char *value)
{
	struct fw_env *e = fakeworld_env(fw, env);
	int i;

	assert_non_null(e);
	for (i = 0; i < FW_VARS; i++)
		if (e->vars[i].present && strcmp(e->vars[i].name, name) == 0) {
			snprintf(e->vars[i].value, sizeof(e->vars[i].value), "%s", value);
			return;
		}
	fail_msg("%s has no %s", env, name);
}

/* A run over a world the caller made unsafe must stop at `step` with
 * CUT_ESTATE and a sentence holding `says`, changing nothing at all. */
static void
assert_refused_at(struct enginerun *h, const char *step, const char *says)
{
	struct cut_err err;
	char want[128];
	int mutations = h->fw->mutations, restores = h->fw->restores;
	int conversions = h->fw->conversions;
	long unreg = h->fw->unreg_users;

	assert_int_equal(enginerun_cmd(h, "run", &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, says));
	assert_int_equal(h->fw->mutations, mutations);
	assert_int_equal(h->fw->restores, restores);
	assert_int_equal(h->fw->conversions, conversions);
	assert_int_equal(h->fw->unreg_users, unreg);
	assert_true(h->fw->target_db_checks > 0);
	char *j = enginerun_journal(h);
	snprintf(want, sizeof(want), "\"ev\":\"step-failed\",\"step\":\"%s\"", step);
	assert_non_null(strstr(j, want));
	free(j);
}

/* A world after `cutover prep` and `cutover run --until step`. */
static void
init_until(struct enginerun *h, const char *step)
{
	struct cut_err err;

	enginerun_init(h, 1);
	h->opts.until = step;
	assert_int_equal(enginerun_cmd(h, "run", &err), 0);
	h->opts.until = NULL;
}

/* Issue 5: the restore refuses, before restoring anything, while the new
 * web environment's instances use the live database, or are short of disk;
 * once that is fixed the same run finishes. */
static void
test_restore_refuses_live_db(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	init_until(&h, "snapshot");
	set_env_var(h.fw, "cobalt-production-green", "RDS_HOSTNAME", LIVE_DB_HOST);
	assert_refused_at(&h, "restore", "LIVE database");
	assert_int_equal(h.fw->restores, 0);
	assert_null(fakeworld_db(h.fw, "cobalt-production-green"));

	/* the env's setting is right but an instance's env file is not */
	set_env_var(h.fw, "cobalt-production-green", "RDS_HOSTNAME", h.names.prep_db_host);
	snprintf(h.fw->instance_db_host, sizeof(h.fw->instance_db_host), "%s", LIVE_DB_HOST ".");
	assert_refused_at(&h, "restore", "LIVE database");
	assert_null(fakeworld_db(h.fw, "cobalt-production-green"));
	h.fw->instance_db_host[0] = '\0';

	h.fw->free_bytes = (uint64_t)100 << 20;
	assert_refused_at(&h, "restore", "Only 100 MiB are free");
	assert_null(fakeworld_db(h.fw, "cobalt-production-green"));

	h.fw->free_bytes = (uint64_t)8 << 30;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_run_end_state(&h);
	enginerun_done(&h);
}

/* Issue 5: the user conversion refuses while the new web environment's
 * instances still connect to the live database (EB says the new one, the
 * instance's env file says otherwise) or are short of disk; nothing is
 * converted, and it goes on once fixed. */
static void
test_convert_refuses_live_db(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	init_until(&h, "dns-switch");
	assert_int_equal(h.fw->restores, 1);
	snprintf(h.fw->instance_db_host, sizeof(h.fw->instance_db_host), "%s",
	    "PRODUCTION-BLUE.c97jawiow7ed.fake.rds");
	assert_refused_at(&h, "convert-users", "LIVE database");
	assert_int_equal(h.fw->conversions, 0);
	assert_int_equal(h.fw->unreg_users, 1234);
	h.fw->instance_db_host[0] = '\0';

	h.fw->free_bytes = (uint64_t)200 << 20;
	assert_refused_at(&h, "convert-users", "Only 200 MiB are free");
	assert_int_equal(h.fw->conversions, 0);

	h.fw->free_bytes = 0;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_run_end_state(&h);
	enginerun_done(&h);
}

static void
assert_failed_back(struct enginerun *h, const struct world_rrset before[3])
{
	const char *names[3] = { "myabf.com.au.", "www.myabf.com.au.", "ses.myabf.com.au." };
	int i;

	for (i = 0; i < 3; i++) {
		const struct world_rrset *rr = fakeworld_rr(h->fw, names[i]);
		assert_memory_equal(rr, &before[i], sizeof(*rr));
	}
	assert_string_equal(fakeworld_var(h->fw, "cobalt-production-blue", "MAINTENANCE_MODE"), "OFF");
	assert_string_equal(fakeworld_var(h->fw, "cobalt-ses-production-green", "MAINTENANCE_MODE"),
	    "OFF");
	assert_false(fakeworld_env(h->fw, "cobalt-production-blue")->cron_paused);
	assert_int_equal(fakeworld_env(h->fw, "cobalt-production-blue")->min_size, 1);
	assert_int_equal(fakeworld_env(h->fw, "cobalt-production-blue")->max_size, 4);
}

static void
save_dns(struct enginerun *h, struct world_rrset before[3])
{
	before[0] = *fakeworld_rr(h->fw, "myabf.com.au.");
	before[1] = *fakeworld_rr(h->fw, "www.myabf.com.au.");
	before[2] = *fakeworld_rr(h->fw, "ses.myabf.com.au.");
}

/* The copied blocked emails leave the new database before migrate-new: the
 * plan says so, the copy is journalled before the delete (record), the
 * restore enters the merged copy, and a rerun after the delete but before
 * its journal record does not clear again. */
static void
test_blocked_email_clear(void **state)
{
	struct enginerun h;
	struct cut_err err;
	char *j;
	const char *rec, *clr, *mig;

	(void)state;
	enginerun_init(&h, 1);
	h.fw->blocked_rows = 7;
	h.opts.dry_run = 1;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	h.opts.dry_run = 0;
	assert_non_null(strstr(h.out, "blocked-email-clear"));
	assert_non_null(strstr(h.out, "before migrate"));
	assert_int_equal(h.fw->blocked_clears, 0);

	h.opts.until = "migrate-new";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	h.opts.until = NULL;
	j = enginerun_journal(&h);
	rec = strstr(j, "\"ev\":\"step-record\",\"step\":\"blocked-email-clear\"");
	clr = strstr(j, "\"ev\":\"step-done\",\"step\":\"blocked-email-clear\"");
	mig = strstr(j, "\"ev\":\"step-begin\",\"step\":\"migrate-new\"");
	assert_non_null(rec);
	assert_non_null(clr);
	assert_non_null(mig);
	assert_true(rec < clr && clr < mig);
	assert_non_null(strstr(rec, "blocked-emails.window"));
	assert_non_null(strstr(rec, "\"restore_rows\":\"7\""));
	assert_non_null(strstr(j, "\"deleted\":\"7\""));
	free(j);
	assert_int_equal(h.fw->blocked_clears, 1);
	assert_int_equal(h.fw->migrates, 1);
	assert_non_null(strstr(h.out, "7 blocked-email row(s) copied to"));
	enginerun_done(&h);

	/* Killed after the delete committed, before it was journalled. */
	enginerun_init(&h, 1);
	h.crash_at = "blocked-email-clear:applied";
	assert_int_equal(enginerun_fork(&h, "run"), 137);
	h.crash_at = NULL;
	assert_true(h.fw->blocked_cleared);
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_int_equal(h.fw->blocked_clears, 1);
	j = enginerun_journal(&h);
	/* the restore entered the merged copy the clear step journalled */
	assert_non_null(strstr(j, "blocked-emails.restore"));
	free(j);
	assert_run_end_state(&h);
	enginerun_done(&h);
}

static void
test_failback_after_completion(void **state)
{
	struct enginerun h;
	struct world_rrset before[3];
	struct cut_err err;

	(void)state;
	enginerun_init(&h, 1);
	save_dns(&h, before);
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_int_equal(enginerun_cmd(&h, "failback", &err), 0);
	assert_failed_back(&h, before);
	assert_int_equal(h.fw->dns_changes, 2);
	assert_non_null(strstr(h.out, "2 entries and 1 payment(s) on the new system from the cutover up to "));
	/* The new side is closed before its activity is counted, and its cron
	 * stopped before the old side's came back. */
	assert_string_equal(fakeworld_var(h.fw, "cobalt-production-green", "MAINTENANCE_MODE"), "ON");
	assert_string_equal(fakeworld_var(h.fw, "cobalt-ses-production-blue", "MAINTENANCE_MODE"), "ON");
	assert_true(fakeworld_env(h.fw, "cobalt-production-green")->cron_paused);
	assert_true(fakeworld_env(h.fw, "cobalt-ses-production-blue")->cron_paused);
	char *j = enginerun_journal(&h);
	const char *ncron = strstr(j, "\"ev\":\"step-done\",\"step\":\"failback-new-cron\"");
	const char *ocron = strstr(j, "\"ev\":\"step-done\",\"step\":\"failback-cron\"");
	const char *nmaint = strstr(j, "\"ev\":\"step-done\",\"step\":\"failback-new-maint\"");
	const char *act = strstr(j, "\"ev\":\"step-begin\",\"step\":\"failback-activity\"");
	assert_non_null(ncron);
	assert_non_null(ocron);
	assert_non_null(nmaint);
	assert_non_null(act);
	assert_true(ncron < ocron);
	assert_true(nmaint < act);
	assert_non_null(strstr(j, "\"counted_until\":\""));
	free(j);
	/* tidy refuses after a fail-back */
	int m = h.fw->mutations;
	assert_int_equal(enginerun_cmd(&h, "tidy", &err), CUT_ESTATE);
	assert_non_null(strstr(h.out, "failed back"));
	assert_int_equal(h.fw->mutations, m);
	enginerun_done(&h);
}

static void
test_failback_after_dns(void **state)
{
	struct enginerun h;
	struct world_rrset before[3];
	struct cut_err err;

	(void)state;
	enginerun_init(&h, 1);
	save_dns(&h, before);
	h.opts.until = "dns-switch";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	h.opts.until = NULL;
	assert_string_equal(fakeworld_rr(h.fw, "myabf.com.au.")->alias_dns, GREEN_CNAME ".");
	assert_int_equal(enginerun_cmd(&h, "failback", &err), 0);
	assert_failed_back(&h, before);
	assert_int_equal(h.fw->conversions, 0);
	enginerun_done(&h);
}

/* Before any DNS change a fail-back only reopens the old system. */
static void
test_failback_before_dns(void **state)
{
	struct enginerun h;
	struct world_rrset before[3];
	struct cut_err err;

	(void)state;
	enginerun_init(&h, 1);
	save_dns(&h, before);
	h.opts.until = "snapshot";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	h.opts.until = NULL;
	assert_int_equal(enginerun_cmd(&h, "failback", &err), 0);
	assert_failed_back(&h, before);
	assert_int_equal(h.fw->dns_changes, 0);
	/* never pointed at the copy: the new side is left as prep made it */
	assert_false(fakeworld_env(h.fw, "cobalt-production-green")->cron_paused);
	assert_int_equal(h.fw->blocked_clears, 0);
	enginerun_done(&h);
}

static void
test_tidy(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	enginerun_init(&h, 1);
	/* refuses before the cutover finished */
	assert_int_equal(enginerun_cmd(&h, "tidy", &err), CUT_ESTATE);
	assert_non_null(strstr(h.out, "not finished"));
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);

	/* refuses while DNS still points at the old environment */
	struct world_rrset keep = *fakeworld_rr(h.fw, "www.myabf.com.au.");
	struct world_rrset *www = (struct world_rrset *)fakeworld_rr(h.fw, "www.myabf.com.au.");
	snprintf(www->alias_dns, sizeof(www->alias_dns), "%s.", BLUE_CNAME);
	int m = h.fw->mutations;
	assert_int_equal(enginerun_cmd(&h, "tidy", &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "DNS still points www.myabf.com.au. at the old environment"));
	assert_int_equal(h.fw->mutations, m);
	*www = keep;

	/* refuses, before changing anything, to delete the database a running
	 * environment still uses: a new one of the pairs, or one outside them
	 * (the test environment pointed at production) */
	const char *users[2] = { "cobalt-ses-production-blue", "cobalt-test-black" };
	for (int u = 0; u < 2; u++) {
		struct world_var v = { "RDS_HOSTNAME", "production-blue.c97jawiow7ed.fake.rds", 1 };
		struct fw_env *e = fakeworld_env(h.fw, users[u]);
		struct world_var saved = v;
		int k = -1;
		for (int i = 0; i < FW_VARS; i++)
			if (strcmp(e->vars[i].name, "RDS_HOSTNAME") == 0)
				k = i;
		assert_true(k >= 0);
		saved = e->vars[k];
		e->vars[k] = v;
		m = h.fw->mutations;
		assert_int_equal(enginerun_cmd(&h, "tidy", &err), CUT_ESTATE);
		assert_non_null(strstr(h.out, users[u]));
		assert_non_null(strstr(h.out, "still uses the old database production-blue"));
		assert_int_equal(h.fw->mutations, m);
		assert_int_equal(h.fw->db_deletes, 0);
		assert_non_null(fakeworld_env(h.fw, "cobalt-production-blue"));
		assert_non_null(fakeworld_rr(h.fw, "cobalt-production-blue.myabf.com.au."));
		e->vars[k] = saved;
	}

	/* tidy-db asks the same itself, of every environment: one repointed at
	 * the old database after the preflight (spelt with other case and a
	 * final dot) stops the deletion; the old environments go first */
	h.opts.until = "tidy-envs";
	assert_int_equal(enginerun_cmd(&h, "tidy", &err), 0);
	h.opts.until = NULL;
	assert_null(fakeworld_env(h.fw, "cobalt-production-blue"));
	/* the configuration templates prep made (secrets included) go too:
	 * the new environments' and any an earlier cutover left for the old */
	assert_int_equal(h.fw->template_deletes, 4);
	{
		struct fw_env *e = fakeworld_env(h.fw, "cobalt-test-black");
		struct run_ctx ctx;
		struct world_var saved;
		int k = -1;
		for (int i = 0; i < FW_VARS; i++)
			if (strcmp(e->vars[i].name, "RDS_HOSTNAME") == 0)
				k = i;
		saved = e->vars[k];
		snprintf(e->vars[k].value, sizeof(e->vars[k].value), "PRODUCTION-BLUE.c97jawiow7ed.fake.rds.");
		memset(&ctx, 0, sizeof(ctx));
		ctx.world = h.w;
		ctx.names = h.names;
		cut_err_clear(&err);
		assert_int_equal(step_tidy_db_entry.check(&ctx, &err), CUT_ESTATE);
		assert_non_null(strstr(err.msg, "environment cobalt-test-black still uses it"));
		e->vars[k] = saved;
		assert_int_equal(step_tidy_db_entry.check(&ctx, &err), STEP_TODO);
	}

	assert_int_equal(enginerun_cmd(&h, "tidy", &err), 0);
	assert_null(fakeworld_rr(h.fw, "cobalt-production-blue.myabf.com.au."));
	assert_non_null(fakeworld_rr(h.fw, "myabf.com.au."));
	assert_null(fakeworld_env(h.fw, "cobalt-ses-production-green"));
	assert_null(fakeworld_db(h.fw, "production-blue"));
	assert_int_equal(h.fw->db_deletes, 1);
	assert_non_null(fakeworld_db(h.fw, "cobalt-production-green"));
	char *j = enginerun_journal(&h);
	assert_non_null(strstr(j, "\"deleted.0.name\":\"cobalt-production-blue.myabf.com.au.\""));
	free(j);
	enginerun_done(&h);
}

static void
test_prep(void **state)
{
	struct enginerun h;
	struct cut_err err;
	char p[512];

	(void)state;
	enginerun_init(&h, 0);
	assert_int_equal(enginerun_cmd(&h, "prep", &err), 0);
	assert_int_equal(h.fw->clones, 2);
	assert_string_equal(fakeworld_env(h.fw, "cobalt-production-green")->status, "Ready");
	assert_string_equal(fakeworld_env(h.fw, "cobalt-production-green")->version, "v6.3.20");
	assert_string_equal(fakeworld_var(h.fw, "cobalt-production-green", "MAINTENANCE_MODE"), "ON");
	assert_string_equal(fakeworld_var(h.fw, "cobalt-ses-production-blue", "RDS_HOSTNAME"),
	    "cobalt-test-db.c97jawiow7ed.fake.rds");
	snprintf(p, sizeof(p), "%s/blocked-emails.backup", h.dir);
	assert_int_equal(access(p, R_OK), 0);
	/* then the cutover itself, in the same state folder */
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_string_equal(fakeworld_rr(h.fw, "myabf.com.au.")->alias_dns, GREEN_CNAME ".");
	assert_int_equal(h.fw->email_restores, 1);
	enginerun_done(&h);
}

static void
test_prep_name_taken(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	enginerun_init(&h, 1);
	/* prep again in the same state folder: all done, nothing changes */
	assert_int_equal(enginerun_cmd(&h, "prep", &err), 0);
	assert_int_equal(h.fw->mutations, 0);
	/* a second cutover (new state folder) finds the names taken */
	strcat(h.dir, "2");
	assert_int_equal(enginerun_cmd(&h, "prep", &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "cobalt-production-green already exists"));
	assert_int_equal(h.fw->mutations, 0);
	enginerun_done(&h);
}

static void
test_rehearse(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	enginerun_init(&h, 1);
	assert_int_equal(h.w->snapshot_create(h.w, "production-blue",
	    "rds:production-blue-2026-11-24", &err), 0);
	assert_int_equal(enginerun_cmd(&h, "rehearse", &err), 0);
	assert_string_equal(fakeworld_var(h.fw, "cobalt-test-black", "MP_USE_DJANGO"), "YES");
	assert_string_equal(fakeworld_var(h.fw, "cobalt-test-black", "RDS_HOSTNAME"),
	    fakeworld_db(h.fw, "cobalt-test-black-prod")->endpoint);
	assert_int_equal(h.fw->migrates, 1);
	assert_int_equal(h.fw->conversions, 1);
	assert_int_equal(h.fw->mpc_syncs, 1);
	/* the test copy's blocked emails left before its migrate and came back */
	assert_int_equal(h.fw->blocked_clears, 1);
	assert_int_equal(h.fw->email_restores, 1);
	assert_non_null(strstr(h.out, "deleted from cobalt-test-black-prod before migrate"));
	assert_non_null(strstr(h.out, "manage.py mpc_sync on cobalt-test-black: exit 0"));
	/* production was not touched */
	assert_string_equal(fakeworld_rr(h.fw, "myabf.com.au.")->alias_dns, BLUE_CNAME ".");
	/* the snapshot named in [rehearse] existed: none taken */
	assert_int_equal(h.fw->snapshots_created, 1);
	enginerun_done(&h);
}

/* Without a snapshot of its own, rehearse takes one of production, once;
 * it refuses a test database that is a production one, and a missing
 * [rehearse] section, before changing anything. */
static void
test_rehearse_snapshot(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	for (int k = 0; k < 3; k++) {
		struct run_names good;

		enginerun_init(&h, 0);
		good = h.names;
		snprintf(good.test_snapshot, sizeof(good.test_snapshot), "production-blue-rehearse");
		if (k < 2)
			snprintf(h.names.test_db, sizeof(h.names.test_db), "%s",
			    k ? h.names.live_db : h.names.new_db);
		else
			h.names.test_env[0] = '\0';
		assert_int_equal(enginerun_cmd(&h, "rehearse", &err), CUT_ESTATE);
		assert_non_null(strstr(h.out, k < 2 ? "is a production database" :
		    "add a [rehearse] section"));
		assert_int_equal(h.fw->mutations, 0);
		/* the refused run pinned nothing: the corrected names are used
		 * in the same state folder */
		h.names = good;
		assert_int_equal(enginerun_cmd(&h, "rehearse", &err), 0);
		assert_int_equal(h.fw->restores, 1);
		enginerun_done(&h);
	}

	/* a fresh state folder: the first run that passes preflight pins the names */
	enginerun_init(&h, 0);
	snprintf(h.names.test_snapshot, sizeof(h.names.test_snapshot), "production-blue-rehearse");
	assert_int_equal(enginerun_cmd(&h, "rehearse", &err), 0);
	assert_int_equal(h.fw->snapshots_created, 1);
	assert_int_equal(h.fw->restores, 1);
	assert_int_equal(h.fw->mpc_syncs, 1);
	assert_non_null(strstr(h.out, "done rehearse-snapshot"));
	fakeworld_reset_counters(h.fw);
	assert_int_equal(enginerun_cmd(&h, "rehearse", &err), 0);
	assert_int_equal(h.fw->mutations, 0);
	assert_int_equal(h.fw->snapshots_created + h.fw->restores + h.fw->mpc_syncs, 0);
	/* nothing is left to protect once mpc_sync ran: a server away now does not fail it */
	h.fw->mpc_down = 1;
	assert_int_equal(enginerun_cmd(&h, "rehearse", &err), 0);
	assert_int_equal(h.fw->mutations, 0);
	enginerun_done(&h);

	/* the server down before mpc_sync: refused, mpc_sync never runs; back: resumed */
	enginerun_init(&h, 0);
	snprintf(h.names.test_snapshot, sizeof(h.names.test_snapshot), "production-blue-rehearse");
	h.fw->mpc_down = 1;
	assert_int_equal(enginerun_cmd(&h, "rehearse", &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "Refusing to run mpc_sync"));
	assert_int_equal(h.fw->conversions, 1);
	assert_int_equal(h.fw->mpc_syncs, 0);
	h.fw->mpc_down = 0;
	assert_int_equal(enginerun_cmd(&h, "rehearse", &err), 0);
	assert_int_equal(h.fw->conversions, 1);
	assert_int_equal(h.fw->mpc_syncs, 1);
	enginerun_done(&h);
}

/* The names pinned at the first run win over what the world says later
 * (after the DNS change, "live" would read as the new colour). */
static void
test_names_pinned(void **state)
{
	struct enginerun h;
	struct cut_err err;
	char tmp[64];

	(void)state;
	init_until(&h, "dns-switch");
	snprintf(tmp, sizeof(tmp), "%s", h.names.live_web);
	snprintf(h.names.live_web, sizeof(h.names.live_web), "%s", h.names.new_web);
	snprintf(h.names.new_web, sizeof(h.names.new_web), "%s", tmp);
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_non_null(strstr(h.out, "as pinned when this cutover began"));
	assert_run_end_state(&h);
	enginerun_done(&h);
}

/* The quiet step waits out the traffic, measured in the world's intervals. */
static void
test_quiet_period(void **state)
{
	struct enginerun h;
	struct cut_err err;
	char *j;

	(void)state;
	enginerun_init(&h, 1);
	h.fw->busy_polls = 4;
	h.opts.until = "quiet";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	j = enginerun_journal(&h);
	assert_non_null(strstr(j, "\"quiet_after_s\":\"100\""));   /* 4 x 10 s busy + 60 s quiet */
	free(j);
	assert_non_null(strstr(h.out, "req/s"));

	/* never quiet: the deadline stops the run before the snapshot */
	enginerun_done(&h);
	enginerun_init(&h, 1);
	h.fw->busy_polls = 1000;
	h.names.quiet_deadline = 120;
	if (enginerun_cmd(&h, "run", &err) != CUT_ETIMEOUT ||
	    strstr(err.msg, "still had real requests after 120 s") == NULL)
		fail_msg("%s", err.msg);
	assert_int_equal(h.fw->snapshots_created, 0);

	/* without --yes, on a terminal, the operator may decide to go on */
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
	int t = open(ptsname(m), O_RDWR | O_NOCTTY);
	assert_true(t >= 0);
	h.opts.yes = 0;
	h.opts.confirm_fd = t;
	h.opts.until = "snapshot";
	assert_int_equal(write(m, "no\n", 3), 3);
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_ETIMEOUT);
	assert_int_equal(h.fw->snapshots_created, 0);
	assert_int_equal(write(m, "yes\n", 4), 4);
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_non_null(strstr(h.out, "take the snapshot anyway"));
	assert_int_equal(h.fw->snapshots_created, 1);
	j = enginerun_journal(&h);
	assert_non_null(strstr(j, "\"quiet_forced\":\"yes\""));
	free(j);
	close(t);
	close(m);
	enginerun_done(&h);
}

/* dns-tail (issue 12): after the new site opens, the old side's requests
 * are counted per sample until one has under one a minute (idle) or the
 * deadline passes (reported, not a failure); [dns] tail_deadline = 0 turns
 * the watch off. */
static void
test_dns_tail(void **state)
{
	struct enginerun h;
	struct report_summary rs;
	struct cut_err err;
	char path[400], line[2048], *j;

	(void)state;
	/* No one left on the old side: the first whole sample is idle. */
	enginerun_init(&h, 1);
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	j = enginerun_journal(&h);
	assert_non_null(strstr(j, "\"result\":\"idle\""));
	assert_non_null(strstr(j, "\"per_minute\":\"0\""));
	assert_non_null(strstr(j, "\"watched_s\":\"60\""));
	free(j);
	assert_non_null(strstr(h.out, "is idle: under one request a minute"));
	enginerun_done(&h);

	/* Resolvers that never let go (5 requests per 10 s poll = 30 a minute):
	 * two samples, then the deadline; the run still succeeds. */
	enginerun_init(&h, 1);
	h.opts.until = "lost-writes";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	h.opts.until = NULL;
	h.fw->busy_polls = 1000;
	h.names.tail_deadline = 120;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	snprintf(path, sizeof(path), "%s/journal.jsonl", h.dir);
	assert_int_equal(report_compute(path, &rs, &err), 0);
	assert_int_equal(report_tail_line(&rs, line, sizeof(line)), 1);
	if (strstr(line, "one figure per 60 s: 30 30. At the deadline (2 min 0 s watched) it still had "
	    "30.0 a minute") == NULL)
		fail_msg("%s", line);
	struct json_object *o = report_tail_json(&rs);
	assert_non_null(o);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    "{\"env\":\"cobalt-production-blue\",\"result\":\"deadline\",\"idle\":false,\"interval_s\":60,"
	    "\"watched_s\":120,\"requests\":60,\"per_minute\":[30,30]}");
	json_object_put(o);
	report_summary_free(&rs);
	enginerun_done(&h);

	/* The old side's logs cannot be read: said and recorded, the run
	 * (the site already open) still succeeds. */
	enginerun_init(&h, 1);
	h.opts.until = "lost-writes";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	h.opts.until = NULL;
	h.fw->rate_fail = 1;
	if (enginerun_cmd(&h, "run", &err) != 0)
		fail_msg("%s", err.msg);
	assert_non_null(strstr(h.out, "could not be counted (The access log of i-0fake cannot be read.)"));
	snprintf(path, sizeof(path), "%s/journal.jsonl", h.dir);
	assert_int_equal(report_compute(path, &rs, &err), 0);
	assert_int_equal(report_tail_line(&rs, line, sizeof(line)), 1);
	assert_non_null(strstr(line, "could not be counted"));
	report_summary_free(&rs);
	enginerun_done(&h);

	/* Turned off: skipped, nothing counted. */
	enginerun_init(&h, 1);
	h.names.tail_deadline = -1;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	j = enginerun_journal(&h);
	assert_null(strstr(j, "\"per_minute\""));
	assert_non_null(strstr(j, "\"ev\":\"step-skipped\",\"step\":\"dns-tail\""));
	free(j);
	enginerun_done(&h);
}

/* Slow environment updates: the waits poll until Ready and say so. */
static void
test_slow_transitions(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	enginerun_init(&h, 1);
	h.fw->slow = 30;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_non_null(strstr(h.out, "environment cobalt-production-blue Ready: Updating/Green"));
	assert_run_end_state(&h);
	enginerun_done(&h);
}

/* --json: one JSON object per line. */
static void
test_json_output(void **state)
{
	struct enginerun h;
	struct cut_err err;
	char *line, *save = NULL;
	int n = 0;

	(void)state;
	enginerun_init(&h, 1);
	h.json = 1;
	h.opts.until = "snapshot";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	for (line = strtok_r(h.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		assert_int_equal(line[0], '{');
		assert_int_equal(line[strlen(line) - 1], '}');
		assert_non_null(strstr(line, "\"event\":"));
	}
	assert_true(n > 10);
	enginerun_done(&h);
}

/* The waits say what they expect: the restore, which AWS gives no percent
 * for, the documented duration (runbook/window.c) while it runs, nothing
 * once it is over. */
static void
test_wait_expected(void **state)
{
	struct enginerun h;
	struct cut_err err;
	char *line, *save = NULL;
	int pending = 0, over = 0;

	(void)state;
	enginerun_init(&h, 1);
	h.json = 1;
	h.fw->slow = 3;
	h.opts.until = "restore";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	for (line = strtok_r(h.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, "\"event\":\"wait\",\"step\":\"restore\""))
			continue;
		if (strstr(line, "\"status\":\"available\"")) {
			over++;
			assert_null(strstr(line, "expected_ms"));
		} else {
			pending++;
			const char *e = strstr(line, "\"expected_ms\":");
			long long ms = e ? strtoll(e + 14, NULL, 10) : 0;
			/* from when apply() returned, a moment before the wait began */
			assert_true(ms > 599000 && ms <= 600000);
		}
	}
	assert_true(pending > 0);
	assert_int_equal(over, 1);
	enginerun_done(&h);
}

/* Issue 12: the live database refuses writes from the freeze on (a write
 * through the old app fails instead of landing after the snapshot), the
 * freeze travels into the copy and leaves it, and fail-back gives the live
 * database back exactly what it had. */
static void
test_write_freeze(void **state)
{
	struct enginerun h;
	struct cut_err err;
	struct fw_db *live;
	char *j;

	(void)state;
	enginerun_init(&h, 1);
	live = fakeworld_db(h.fw, "production-blue");
	assert_int_equal(fakeworld_app_write(h.fw, "cobalt-production-blue", 2), 0);
	h.opts.until = "freeze";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_string_equal(live->data.read_only, "on");
	assert_int_equal(fakeworld_app_write(h.fw, "cobalt-production-blue", 2), -1);
	assert_non_null(strstr(h.out, "the live database refuses writes from"));
	h.opts.until = "restore";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	/* the setting travelled into the copy, as it does in an RDS snapshot */
	assert_string_equal(fakeworld_db(h.fw, "cobalt-production-green")->data.read_only, "on");
	h.opts.until = "unfreeze-new";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_string_equal(fakeworld_db(h.fw, "cobalt-production-green")->data.read_only, "");
	assert_string_equal(live->data.read_only, "on");
	j = enginerun_journal(&h);
	assert_non_null(strstr(j, "\"prev\":\"unset\""));
	free(j);

	h.opts.until = NULL;
	assert_int_equal(enginerun_cmd(&h, "failback", &err), 0);
	assert_string_equal(live->data.read_only, "");
	assert_int_equal(fakeworld_app_write(h.fw, "cobalt-production-blue", 2), 0);
	enginerun_done(&h);

	/* a setting the live database had before comes back exactly */
	enginerun_init(&h, 1);
	live = fakeworld_db(h.fw, "production-blue");
	snprintf(live->data.read_only, sizeof(live->data.read_only), "off");
	h.opts.until = "unfreeze-new";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_string_equal(fakeworld_db(h.fw, "cobalt-production-green")->data.read_only, "off");
	h.opts.until = NULL;
	assert_int_equal(enginerun_cmd(&h, "failback", &err), 0);
	assert_string_equal(live->data.read_only, "off");
	enginerun_done(&h);
}

/* Issue 12: a row added to the new database after the restore stops the
 * run before DNS moves, naming the table; so does a write that reached the
 * frozen live database; migrate's own change (django_migrations) does not. */
static void
test_parity_before_dns(void **state)
{
	struct enginerun h;
	struct cut_err err;
	struct fw_db *nw, *live;
	char md[4200];
	FILE *f;

	(void)state;
	init_until(&h, "migrate-new");
	nw = fakeworld_db(h.fw, "cobalt-production-green");
	live = fakeworld_db(h.fw, "production-blue");
	assert_true(nw->data.rows[1] != live->data.rows[1]);   /* migrate wrote django_migrations */
	assert_int_equal(fakeworld_app_write(h.fw, "cobalt-production-green", 3), 0);
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "payments_membertransaction"));
	assert_non_null(strstr(err.msg, "DNS was not changed"));
	assert_int_equal(h.fw->dns_changes, 0);
	assert_non_null(strstr(h.out, "payments_membertransaction: differs on the new database"));
	snprintf(md, sizeof(md), "%s/parity.json", h.dir);
	assert_int_equal(access(md, F_OK), 0);

	/* the row gone again: the same run goes on */
	nw->data.rows[3]--;
	nw->data.max_id[3]--;
	/* a write that bypassed the freeze (a superuser's own session) */
	live->data.rows[2]++;
	live->data.max_id[2]++;
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "changed after the freeze (events_evententry)"));
	assert_int_equal(h.fw->dns_changes, 0);
	live->data.rows[2]--;
	live->data.max_id[2]--;

	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_int_equal(h.fw->dns_changes, 1);
	assert_run_end_state(&h);
	/* the report shows the freeze point and the proof */
	struct report_summary rs;
	char path[512], *rep = NULL;
	size_t replen = 0;
	snprintf(path, sizeof(path), "%s/journal.jsonl", h.dir);
	assert_int_equal(report_compute(path, &rs, &err), 0);
	f = open_memstream(&rep, &replen);
	report_write_markdown(&rs, f);
	fclose(f);
	report_summary_free(&rs);
	assert_non_null(strstr(rep, "## Write freeze"));
	assert_non_null(strstr(rep, "no write landed after the freeze"));
	assert_non_null(strstr(rep, "## Parity before the DNS switch"));
	free(rep);
	enginerun_done(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_order_and_end_state),
		cmocka_unit_test(test_crash_at_every_point),
		cmocka_unit_test(test_found_applied_journalled),
		cmocka_unit_test(test_double_crash),
		cmocka_unit_test(test_once_refusal),
		cmocka_unit_test(test_torn_journal_resume),
		cmocka_unit_test(test_lock_refusal),
		cmocka_unit_test(test_preflight_failure),
		cmocka_unit_test(test_preflight_wrong_live),
		cmocka_unit_test(test_until),
		cmocka_unit_test(test_dry_run),
		cmocka_unit_test(test_confirmation),
		cmocka_unit_test(test_ctrl_c),
		cmocka_unit_test(test_second_ctrl_c),
		cmocka_unit_test(test_smoke_failure_stops),
		cmocka_unit_test(test_restore_refuses_live_db),
		cmocka_unit_test(test_convert_refuses_live_db),
		cmocka_unit_test(test_blocked_email_clear),
		cmocka_unit_test(test_failback_after_completion),
		cmocka_unit_test(test_failback_after_dns),
		cmocka_unit_test(test_failback_before_dns),
		cmocka_unit_test(test_tidy),
		cmocka_unit_test(test_prep),
		cmocka_unit_test(test_prep_name_taken),
		cmocka_unit_test(test_rehearse),
		cmocka_unit_test(test_rehearse_snapshot),
		cmocka_unit_test(test_names_pinned),
		cmocka_unit_test(test_quiet_period),
		cmocka_unit_test(test_dns_tail),
		cmocka_unit_test(test_slow_transitions),
		cmocka_unit_test(test_json_output),
		cmocka_unit_test(test_wait_expected),
		cmocka_unit_test(test_write_freeze),
		cmocka_unit_test(test_parity_before_dns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
