"""fakeaws hooks that make the simulated world real (tests/sim/README.md).

fakeaws (tests/fakeaws/fakeaws.py --hooks tests/sim/hooks.py) calls these with
its world lock held, from its request and ticker threads. SIMPROD_DIR names
the simulation folder that tests/sim/up prepared (DIR/sim.json). What each
hook does:

  setup               adopt the hosts and databases `up` already started
  allocate_instance   a new instance gets the next loopback address
  allocate_endpoint   a new environment's load balancer (lb.py) gets one too
  instances_changed   added instances become sshd + app hosts; removed ones stop
  env_vars_changed    the env file on each instance is rewritten, the app restarts
  version_deployed    `manage.py migrate` from one instance (Cobalt's postdeploy hook)
  snapshot_created    a point-in-time pg_dump of that database
  db_restored         a new PostgreSQL cluster with the snapshot's data
  replica_created     a PostgreSQL standby streaming from the source (pg_basebackup -R)
  replica_promoted    pg_ctl promote: the standby takes writes
  db_deleted          its cluster stops
  ssh_public_key      EC2 Instance Connect: the key works on that instance for 60 s

A hook that fails logs to DIR/sim.log and re-raises, so the AWS call that
caused it fails loudly instead of leaving a world that lies.
"""
import os
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402

D = os.environ.get('SIMPROD_DIR')
_st = None
_hosts = None
_dbs = None


def _init():
    global _st, _hosts, _dbs
    if _st is None:
        if not D:
            raise RuntimeError('SIMPROD_DIR is not set: start fakeaws through tests/sim/up')
        _st = simlib.State(D)
        _hosts = simlib.Hosts(_st)
        _dbs = simlib.Dbs(_st)


def _logged(fn):
    def wrap(*a):
        try:
            _init()
            with _st.lock:  # re-reads sim.json: `up` may have changed it
                pass
            return fn(*a)
        except Exception:
            simlib.log(D or '/tmp', 'hook %s failed:\n%s' % (fn.__name__, traceback.format_exc()))
            raise
    wrap.__name__ = fn.__name__
    return wrap


_loaded = False


@_logged
def setup(world):
    """The first load finds what `up` started. A later one (POST /_sim/reset)
    brings the real side back in line with the reloaded world: instances it
    does not hold stop, the ones it holds run with its env vars, databases it
    does not hold stop, the ones it holds run (their data as it is now)."""
    global _loaded
    if not _loaded:
        _loaded = True
        simlib.log(D, 'fakeaws world loaded: %d instances, %d databases' % (len(world.instances), len(world.dbs)))
        return
    want = {}
    for env in world.envs:
        if env['status'] != 'Terminated':
            for inst in world.env_instances(env):
                want[inst['id']] = (env['name'], world.instance_view(inst))
    added = [v for iid, (e, v) in want.items() if not _st.data['hosts'].get(iid, {}).get('running')]
    removed = [{'id': iid} for iid, h in _st.data['hosts'].items() if h.get('running') and iid not in want]
    add_by, rm_by = {}, {}
    for v in added:
        add_by.setdefault(v['env'], []).append(v)
    for r in removed:
        rm_by.setdefault(_st.data['hosts'][r['id']]['env'], []).append(r)
    for env_name in set(add_by) | set(rm_by):
        instances_changed(world, env_name, [], add_by.get(env_name, []), rm_by.get(env_name, []))
    changed = {}
    for iid, (e, v) in want.items():
        if v not in added and simlib.read_env_file(os.path.join(simlib.host_root(D, iid), simlib.ENV_FILE)) != \
                v['env_vars']:
            changed[iid] = v['env_vars']
    if changed:
        env_vars_changed(world, 'reset', changed)
    for dbid, info in list(_st.data['dbs'].items()):
        if dbid not in world.dbs and info['running']:
            _dbs.stop(dbid)
        elif dbid in world.dbs and not info['running']:
            _dbs.restart(dbid)
    simlib.log(D, 'fakeaws world reset: %d started, %d stopped, %d env files rewritten'
               % (len(added), len(removed), len(changed)))


@_logged
def allocate_instance(world, env_name):
    addr = _st.next_instance_addr()
    return {'private_ip': addr, 'public_ip': addr, 'ssh_port': _st.data['ssh_port'],
            'az': world.region + 'abc'[int(addr.rsplit('.', 1)[1]) % 3]}


@_logged
def allocate_endpoint(world, env_name):
    return _st.next_lb_addr(env_name)


def _add_known_hosts(lines):
    path = os.path.join(D, 'ssh', 'known_hosts')
    with _st.lock, open(path, 'a') as f:
        f.writelines(lines)


@_logged
def instances_changed(world, env_name, running, added, removed):
    errs = []

    def up(inst):
        try:
            iid, addr = inst['id'], inst['private_ip']
            _hosts.lay_out(iid, addr, inst['env_vars'])
            _add_known_hosts(_hosts.known_hosts_lines(iid, sorted({addr, inst['public_ip'] or addr})))
            _hosts.start(iid, addr)
            with _st.lock:
                _st.data['hosts'][iid] = {'env': env_name, 'address': addr, 'running': True,
                                          'root': simlib.host_root(D, iid)}
                _st.save()
            simlib.log(D, 'instance %s of %s up at %s' % (iid, env_name, addr))
        except Exception as e:
            errs.append(e)

    def down(inst):
        _hosts.stop(inst['id'])
        with _st.lock:
            if inst['id'] in _st.data['hosts']:
                _st.data['hosts'][inst['id']]['running'] = False
                _st.save()
        simlib.log(D, 'instance %s of %s stopped' % (inst['id'], env_name))

    launch = added and len(running) == len(added)  # a new environment (or one back from zero)
    ts = [threading.Thread(target=up, args=(i,)) for i in added] + \
         [threading.Thread(target=down, args=(i,)) for i in removed]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        raise errs[0]
    if launch:
        version_deployed(world, env_name, 'launch', added)


@_logged
def env_vars_changed(world, env_name, changed):
    procs = [(iid, _hosts.set_env(iid, v)) for iid, v in changed.items()
             if _st.data['hosts'].get(iid, {}).get('running')]
    bad = []
    for iid, p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            bad.append('%s: %s' % (iid, err.decode(errors='replace').strip()))
    simlib.log(D, 'env vars of %s changed on %s%s' % (env_name, ', '.join(changed),
                                                      ('; FAILED ' + '; '.join(bad)) if bad else ''))
    if bad:
        raise RuntimeError('app restart failed: ' + '; '.join(bad))


@_logged
def version_deployed(world, env_name, version_label, instances):
    # A deploy runs Cobalt's postdeploy hook (02_django.sh): `migrate` against
    # the environment's database, from one instance.
    for inst in instances:
        h = _st.data['hosts'].get(inst['id'])
        if h and h.get('running'):
            r = _hosts.manage(inst['id'], ['migrate', '--noinput', '-v', '0'])
            simlib.log(D, 'deployed %s to %s: migrate on %s exited %d%s' % (
                version_label, env_name, inst['id'], r.returncode,
                '' if r.returncode == 0 else ': ' + r.stdout[-500:]))
            return


@_logged
def snapshot_created(world, db_id, snap_id):
    _dbs.snapshot(db_id, snap_id)
    simlib.log(D, 'snapshot %s of %s taken' % (snap_id, db_id))


@_logged
def db_restored(world, ident, snap_id, source_db):
    # The new instance stays "creating" until its data is in: fakeaws takes
    # this outcome right after we return, so at its due time the instance
    # stays "creating"; the restore thread then makes it available.
    hold = {'kind': 'restore', 'target': ident, 'result': 'creating'}
    world.outcomes.append(hold)

    def done(ok):
        with world.lock:
            db = world.dbs.get(ident)
            if hold in world.outcomes:
                # A test's own outcome for this restore came first: it decides.
                world.outcomes.remove(hold)
            elif db is None:
                pass
            elif db['until'] is not None:
                db['next'] = 'available' if ok else 'failed'
            elif db['status'] == 'creating':
                db['status'] = 'available' if ok else 'failed'
    addr, port = _dbs.restore(ident, snap_id, done)
    simlib.log(D, 'restoring %s from %s at %s:%d' % (ident, snap_id, addr, port))
    return {'address': addr, 'port': port}


def _held_until(world, ident, ok):
    """Ends a hold taken for real work: a failure makes the transition
    end in 'failed' instead of its planned state."""
    with world.lock:
        db = world.dbs.get(ident)
        if db is not None and not ok:
            if db['until'] is not None:
                db['next'] = 'failed'
            else:
                db['status'] = 'failed'
    world.release('db_instance', ident)


@_logged
def replica_created(world, ident, source_db):
    # Stays "creating" until the standby runs (the hold), however long the
    # base backup takes.
    world.hold('db_instance', ident)
    addr, port = _dbs.replica(ident, source_db, lambda ok: _held_until(world, ident, ok))
    simlib.log(D, 'creating replica %s of %s at %s:%d' % (ident, source_db, addr, port))
    return {'address': addr, 'port': port}


@_logged
def replica_promoted(world, ident):
    # Stays "modifying" (still a replica) until pg_ctl promote returned.
    world.hold('db_instance', ident)
    _dbs.promote(ident, lambda ok: _held_until(world, ident, ok))
    simlib.log(D, 'promoting %s' % ident)


@_logged
def db_deleted(world, db_id):
    # The final snapshot (if any) must be written before the server goes.
    for sid, t in list(_dbs.dumps.items()):
        if _st.data['snapshots'].get(sid, {}).get('db') == db_id:
            t.join()
    _dbs.stop(db_id)
    simlib.log(D, 'database %s stopped' % db_id)


@_logged
def ssh_public_key(world, inst, user, key, expires):
    wall = expires - world.offset
    _hosts.authorize_eic(inst['id'], user, key, wall)
    simlib.log(D, 'instance connect key for %s@%s until %s' % (user, inst['id'], time.strftime(
        '%H:%M:%S', time.gmtime(wall))))
