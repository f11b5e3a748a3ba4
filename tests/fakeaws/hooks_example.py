"""An example hooks module for fakeaws (`--hooks tests/fakeaws/hooks_example.py`).

Every hook is optional; fakeaws calls the ones a module defines, with the
world locked (keep them quick, and do not call the server's HTTP API from
inside a hook: use the `world` argument). This one appends each call as a
JSON line to the file named by FAKEAWS_HOOK_LOG, and shows how a simulated
production would hand out real addresses: restored databases get the
endpoint FAKEAWS_HOOK_DB_ENDPOINT (host:port) when it is set.
"""
import json
import os


def _log(name, **kw):
    path = os.environ.get('FAKEAWS_HOOK_LOG')
    if path:
        with open(path, 'a') as f:
            f.write(json.dumps(dict(kw, hook=name), default=str) + '\n')


def setup(world):
    """Called after the world is loaded (at start and on every reset)."""
    _log('setup', environments=[e['name'] for e in world.envs])


def allocate_instance(world, env_name):
    """A new instance for env_name: return a dict with any of private_ip,
    public_ip, ssh_port, az, id (or None to take the world's instance_pool)."""
    n = sum(1 for i in world.instances.values() if i['env'] == env_name) + 1
    spec = {'private_ip': '127.0.0.%d' % (100 + len(world.instances)), 'ssh_port': 2200 + len(world.instances)}
    _log('allocate_instance', env=env_name, n=n, spec=spec)
    return spec


def instances_changed(world, env_name, instances, added, removed):
    """The running instances of env_name changed (scaling, launch, terminate).
    Each instance: id, env, private_ip, public_ip, ssh_port, az, state, env_vars."""
    _log('instances_changed', env=env_name, instances=[i['id'] for i in instances],
         added=[dict(id=i['id'], env_vars=i['env_vars'], ssh_port=i['ssh_port']) for i in added],
         removed=[i['id'] for i in removed])


def env_vars_changed(world, env_name, per_instance):
    """An update changed the environment variables: {instance_id: {NAME: value}}
    for each running instance (what its env file must now hold)."""
    _log('env_vars_changed', env=env_name, per_instance=per_instance)


def version_deployed(world, env_name, version_label, instances):
    """An update that deployed a new application version completed."""
    _log('version_deployed', env=env_name, version=version_label, instances=[i['id'] for i in instances])


def snapshot_created(world, db_instance_id, snapshot_id):
    """CreateDBSnapshot (or a final snapshot) was accepted: capture the data now."""
    _log('snapshot_created', db=db_instance_id, snapshot=snapshot_id)


def db_restored(world, db_instance_id, snapshot_id, source_db_instance_id):
    """RestoreDBInstanceFromDBSnapshot was accepted: return {'address', 'port'}
    of the new server (or None to keep the world's made-up endpoint)."""
    _log('db_restored', db=db_instance_id, snapshot=snapshot_id, source=source_db_instance_id)
    ep = os.environ.get('FAKEAWS_HOOK_DB_ENDPOINT')
    if ep:
        host, port = ep.rsplit(':', 1)
        return {'address': host, 'port': int(port)}
    return None


def db_deleted(world, db_instance_id):
    """A DB instance finished deleting (it is gone from the API)."""
    _log('db_deleted', db=db_instance_id)


def ssh_public_key(world, instance, os_user, public_key, expires_at):
    """SendSSHPublicKey accepted a key for os_user on instance until expires_at
    (simulated epoch seconds). GET /_sim/ssh-keys?instance=ID&user=U lists
    the keys still valid, for an sshd AuthorizedKeysCommand."""
    _log('ssh_public_key', instance=instance['id'], user=os_user, key=public_key)
