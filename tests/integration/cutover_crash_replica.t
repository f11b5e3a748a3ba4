#!/usr/bin/env bash
# cutover_crash_replica.t: cutover_crash.t with [database] method = replica
# (issue 13): the same kill -9 at every boundary of every step, the replica
# path's replica-catchup and promote among them, then the same end state with
# one promotion and no snapshot.
CUT_METHOD=replica exec "$(dirname "$0")/cutover_crash.t"
