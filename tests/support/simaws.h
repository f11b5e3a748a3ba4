/* simaws.h: talking to the simulated AWS's admin API (tests/fakeaws) from C
 * tests: reset the world, set durations, inject faults, read the state. */
#ifndef CUTOVER_SIMAWS_H
#define CUTOVER_SIMAWS_H

#include <json-c/json.h>

/* 1 when FAKEAWS_ADMIN is set (the fakeaws service is up). */
int sim_available(void);
/* POSTs a JSON body (may be NULL = {}) to $FAKEAWS_ADMIN/<path>; returns the
 * parsed reply (caller json_object_put) or NULL on failure. */
struct json_object *sim_post(const char *path, const char *json);
/* GET / DELETE $FAKEAWS_ADMIN/<path>. */
struct json_object *sim_get(const char *path);
struct json_object *sim_delete(const char *path);
/* Resets the world to its start, faults and call log cleared; returns 0. */
int sim_reset(void);
/* Number of calls the simulation received for service/operation (NULL = any). */
int sim_calls(const char *service, const char *operation);

#endif
