/* sx.h: test helpers for the data-safety tests: a private PostgreSQL
 * (tests/fixture/pg-start), Cobalt fixture databases and EB-like instance
 * folders (tests/fixture/lay-instance), and the real agent started
 * locally over pipes. Everything lives under one mktemp folder that
 * sx_teardown() stops and removes. */
#ifndef CUTOVER_TEST_SX_H
#define CUTOVER_TEST_SX_H

#include "remote/agent_link.h"
#include "remote/agent_ops.h"

struct sx {
	char dir[256];        /* the mktemp folder */
	char pgenv[300];      /* dir/postgres.env */
	int pg_started;
};

/* Starts PostgreSQL in a new temp folder. Returns 0 or -1 (message on stderr). */
int sx_setup(struct sx *x);
void sx_teardown(struct sx *x);

/* Runs a shell command line built from fmt, with the server's PG* variables
 * exported; returns its exit status. */
int sx_sh(struct sx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like sx_sh but returns its stdout (caller frees), NULL on failure. */
char *sx_out(struct sx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A database migrated to state ("before": live, FK -> unregistered users;
 * "after": new) and seeded, with an instance folder dir/NAME pointing at it. */
int sx_cobalt_db(struct sx *x, const char *db, const char *state, int seed);
/* An instance folder dir/name whose env file names database db. */
int sx_instance(struct sx *x, const char *name, const char *db);
/* Path of instance name's env file into buf. */
const char *sx_env_file(struct sx *x, const char *name, char *buf, size_t len);

/* Starts the real agent (CUTOVER_TEST_AGENT, or $CUTOVER_BUILD/agent/
 * cutover-agent-x86_64) over pipes, labelled name. */
int sx_agent(struct alink *l, const char *name);

#endif
