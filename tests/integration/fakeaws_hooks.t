#!/usr/bin/python3
# The simulated AWS's hooks (the extension points a simulated production
# builds on): instance list changes with addresses from the hook, env-var
# changes per instance, snapshots, restores reporting the hook's endpoint,
# deletions and Instance Connect keys.
import base64
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'fakeaws'))
import testlib as T  # noqa: E402

t = T.Tap()
log = os.path.join(os.environ.get('TMPDIR', '/tmp'), 'fakeaws-hooks-%d.jsonl' % os.getpid())
os.environ['FAKEAWS_HOOK_LOG'] = log
os.environ['FAKEAWS_HOOK_DB_ENDPOINT'] = '127.0.0.1:54329'
srv = T.Server(durations=dict(T.FAST, env_update=1.0), hooks=os.path.join(HERE, '..', 'fakeaws', 'hooks_example.py'))
W = {'Delay': 0.1, 'MaxAttempts': 100}


def calls(name):
    if not os.path.exists(log):
        return []
    with open(log) as f:
        return [json.loads(x) for x in f if json.loads(x)['hook'] == name]


def test_hooks():
    t.eq(len(calls('setup')), 1, 'setup is called once the world is loaded')
    eb = T.client(srv, 'elasticbeanstalk')
    eb.update_environment(EnvironmentName='cobalt-production-green', OptionSettings=[
        {'Namespace': 'aws:autoscaling:asg', 'OptionName': 'MinSize', 'Value': '3'},
        {'Namespace': 'aws:autoscaling:asg', 'OptionName': 'MaxSize', 'Value': '3'}])
    eb.get_waiter('environment_updated').wait(EnvironmentNames=['cobalt-production-green'], WaiterConfig=W)
    ch = calls('instances_changed')
    t.ok(len(ch) == 1 and len(ch[0]['added']) == 2 and len(ch[0]['instances']) == 3 and not ch[0]['removed'],
         'scaling 1 -> 3 reports two added instances', ch)
    t.ok(all(a['env_vars'].get('MAINTENANCE_MODE') == 'ON' for a in ch[0]['added']),
         'new instances carry the environment variables', ch)
    added = [a['id'] for a in ch[0]['added']]
    ec2 = T.client(srv, 'ec2')
    ips = [r['Instances'][0]['PrivateIpAddress'] for r in ec2.describe_instances(InstanceIds=added)['Reservations']]
    t.ok(all(ip.startswith('127.0.0.') for ip in ips), 'their addresses come from allocate_instance', ips)
    st = srv.state()
    t.ok(all(i['ssh_port'] >= 2200 for i in st['instances'] if i['id'] in added),
         'and so do their ssh ports (state dump)')
    eb.update_environment(EnvironmentName='cobalt-production-green', OptionSettings=[
        {'Namespace': 'aws:elasticbeanstalk:application:environment', 'OptionName': 'RDS_HOSTNAME',
         'Value': 'cobalt-production-green.c97jawiow7ed.ap-southeast-2.rds.amazonaws.com'}],
        OptionsToRemove=[{'Namespace': 'aws:elasticbeanstalk:application:environment',
                          'OptionName': 'MP_USE_DJANGO'}])
    t.eq(calls('env_vars_changed'), [], 'env vars do not change before the update completes')
    eb.get_waiter('environment_updated').wait(EnvironmentNames=['cobalt-production-green'], WaiterConfig=W)
    ev = calls('env_vars_changed')
    t.ok(len(ev) == 1 and len(ev[0]['per_instance']) == 3 and all(
        v['RDS_HOSTNAME'].startswith('cobalt-production-green.') and 'MP_USE_DJANGO' not in v
        for v in ev[0]['per_instance'].values()), 'env_vars_changed gives each instance its new map', ev)
    eb.update_environment(EnvironmentName='cobalt-production-green', OptionSettings=[
        {'Namespace': 'aws:autoscaling:asg', 'OptionName': 'MinSize', 'Value': '1'},
        {'Namespace': 'aws:autoscaling:asg', 'OptionName': 'MaxSize', 'Value': '1'}])
    eb.get_waiter('environment_updated').wait(EnvironmentNames=['cobalt-production-green'], WaiterConfig=W)
    ch = calls('instances_changed')
    t.ok(len(ch) == 2 and len(ch[1]['removed']) == 2 and len(ch[1]['instances']) == 1,
         'scaling 3 -> 1 reports two removed instances', ch)
    r = ec2.describe_instances(InstanceIds=ch[1]['removed'])
    t.eq({x['Instances'][0]['State']['Name'] for x in r['Reservations']}, {'terminated'},
         'removed instances show as terminated in EC2')
    envf = srv.admin('GET', '/env-file?instance=%s' % ch[1]['instances'][0])
    t.ok('RDS_HOSTNAME=cobalt-production-green.c97jawiow7ed' in envf and 'MP_USE_DJANGO' not in envf and
         'MAINTENANCE_MODE=ON\n' in envf, "/_sim/env-file gives the instance's env file", envf)
    eb.update_environment(EnvironmentName='cobalt-production-green', VersionLabel='cobalt-6.0.1')
    eb.get_waiter('environment_updated').wait(EnvironmentNames=['cobalt-production-green'], WaiterConfig=W)
    t.eq([(c['env'], c['version'], len(c['instances'])) for c in calls('version_deployed')],
         [('cobalt-production-green', 'cobalt-6.0.1', 1)], 'version_deployed is called when a version is deployed')
    rds = T.client(srv, 'rds')
    rds.create_db_snapshot(DBSnapshotIdentifier='cut-hooks', DBInstanceIdentifier='production-blue')
    t.eq([(c['db'], c['snapshot']) for c in calls('snapshot_created')], [('production-blue', 'cut-hooks')],
         'snapshot_created is called with the instance and snapshot ids')
    rds.get_waiter('db_snapshot_available').wait(DBSnapshotIdentifier='cut-hooks', WaiterConfig=W)
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier='cobalt-production-green',
                                             DBSnapshotIdentifier='cut-hooks', DBInstanceClass='db.t3.small')
    t.eq([(c['db'], c['snapshot'], c['source']) for c in calls('db_restored')],
         [('cobalt-production-green', 'cut-hooks', 'production-blue')], 'db_restored is called')
    rds.get_waiter('db_instance_available').wait(DBInstanceIdentifier='cobalt-production-green', WaiterConfig=W)
    d = rds.describe_db_instances(DBInstanceIdentifier='cobalt-production-green')['DBInstances'][0]
    t.eq((d['Endpoint']['Address'], d['Endpoint']['Port']), ('127.0.0.1', 54329),
         'the restored instance reports the endpoint the hook returned')
    rds.delete_db_instance(DBInstanceIdentifier='cobalt-test', SkipFinalSnapshot=True)
    rds.get_waiter('db_instance_deleted').wait(DBInstanceIdentifier='cobalt-test', WaiterConfig=W)
    t.eq([c['db'] for c in calls('db_deleted')], ['cobalt-test'], 'db_deleted is called once it is gone')
    key = 'ssh-ed25519 ' + base64.b64encode(b'\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20' + b'q' * 32).decode()
    T.client(srv, 'ec2-instance-connect').send_ssh_public_key(
        InstanceId='i-0b1e0000000000001', InstanceOSUser='ec2-user', SSHPublicKey=key)
    t.eq([(c['instance'], c['user'], c['key']) for c in calls('ssh_public_key')],
         [('i-0b1e0000000000001', 'ec2-user', key)], 'ssh_public_key is called with the pushed key')
    import subprocess
    out = subprocess.run([os.path.join(HERE, '..', 'fakeaws', 'authorized-keys-command'), srv.admin_url,
                          'i-0b1e0000000000001', 'ec2-user'], capture_output=True, text=True, timeout=10).stdout
    t.eq(out.strip(), key, 'authorized-keys-command prints the key for sshd')
    out = subprocess.run([os.path.join(HERE, '..', 'fakeaws', 'authorized-keys-command'), srv.admin_url,
                          'i-0b1e0000000000001', 'root'], capture_output=True, text=True, timeout=10).stdout
    t.eq(out, '', 'and nothing for another user')
    srv.admin('POST', '/time', {'advance': 61})
    t.eq(srv.admin('GET', '/ssh-keys?instance=i-0b1e0000000000001&user=ec2-user'), '',
         'the key is no longer listed after 60 s')
    srv.admin('POST', '/reset', {})
    t.eq(len(calls('setup')), 2, 'setup is called again on reset')




def test_holds():
    os.environ['FAKEAWS_HOOK_DELAY'] = '2.5'
    slow = T.Server(durations=T.FAST, hooks=os.path.join(HERE, '..', 'fakeaws', 'hooks_slow.py'))
    try:
        eb = T.client(slow, 'elasticbeanstalk')
        rds = T.client(slow, 'rds')
        t0 = time.time()
        eb.update_environment(EnvironmentName='cobalt-ses-production-green', OptionSettings=[
            {'Namespace': 'aws:elasticbeanstalk:application:environment', 'OptionName': 'MAINTENANCE_MODE',
             'Value': 'ON'}])
        rds.create_db_snapshot(DBSnapshotIdentifier='held', DBInstanceIdentifier='production-blue')
        rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier='held-db',
                                                 DBSnapshotIdentifier='production-blue-before-6-0')
        time.sleep(1.5)   # every duration is over, every hook is still holding
        env = eb.describe_environments(EnvironmentNames=['cobalt-ses-production-green'])['Environments'][0]
        envf = slow.admin('GET', '/env-file?instance=i-06e5e500000000005')
        t.ok(env['Status'] == 'Updating' and 'MAINTENANCE_MODE=ON' in envf,
             'a held update has reached the instances but is still Updating', (env['Status'], envf))
        snap = rds.describe_db_snapshots(DBSnapshotIdentifier='held')['DBSnapshots'][0]
        t.eq((snap['Status'], snap['PercentProgress']), ('creating', 99), 'a held snapshot stays creating at 99%')
        db = rds.describe_db_instances(DBInstanceIdentifier='held-db')['DBInstances'][0]
        t.eq(db['DBInstanceStatus'], 'creating', 'a held restore stays creating')
        W2 = {'Delay': 0.1, 'MaxAttempts': 100}
        eb.get_waiter('environment_updated').wait(EnvironmentNames=['cobalt-ses-production-green'], WaiterConfig=W2)
        rds.get_waiter('db_snapshot_available').wait(DBSnapshotIdentifier='held', WaiterConfig=W2)
        rds.get_waiter('db_instance_available').wait(DBInstanceIdentifier='held-db', WaiterConfig=W2)
        took = time.time() - t0
        t.ok(took >= 2.5, 'all three complete once released (%.1f s)' % took)
    finally:
        slow.stop()


t.run(test_hooks, 'hooks')
t.run(test_holds, 'holds')
srv.stop()
if os.path.exists(log):
    os.unlink(log)
t.done()
