"""Hooks that stand for slow real work (fakeaws_hooks.t): each holds the
resource it was called for and releases it FAKEAWS_HOOK_DELAY seconds later
from another thread, as a simulated production does while it copies a
database or rewrites env files over SSH."""
import os
import threading


def _later(world, kind, ident):
    world.hold(kind, ident)
    t = threading.Timer(float(os.environ.get('FAKEAWS_HOOK_DELAY', '1')), world.release, (kind, ident))
    t.daemon = True
    t.start()


def env_vars_changed(world, env_name, per_instance):
    _later(world, 'environment', env_name)


def snapshot_created(world, db_instance_id, snapshot_id):
    _later(world, 'db_snapshot', snapshot_id)


def db_restored(world, db_instance_id, snapshot_id, source_db_instance_id):
    _later(world, 'db_instance', db_instance_id)
    return None
