#!/usr/bin/python3
# The simulated AWS's admin API (/_sim/): fault injection with each protocol's
# throttling code (and botocore's standard retries riding them out), 5xx,
# dropped connections, latency, expiring credentials, durations and
# fast-forward, failure outcomes, state dump, call log, reset; and startup time.
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fakeaws'))
import testlib as T  # noqa: E402
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError  # noqa: E402

t = T.Tap()
srv = T.Server(durations=T.FAST)
# Start-up time is a measurement, not a pass/fail (timed tests flake on a loaded machine).
print('# the server answered %.2f s after starting' % srv.startup)


def test_faults():
    for service, call, code, status in [
            ('elasticbeanstalk', lambda c: c.describe_environments(), 'Throttling', 400),
            ('rds', lambda c: c.describe_db_instances(), 'Throttling', 400),
            ('ec2', lambda c: c.describe_instances(), 'RequestLimitExceeded', 503),
            ('route53', lambda c: c.get_change(Id='x'), 'Throttling', 400),
            ('sts', lambda c: c.get_caller_identity(), 'Throttling', 400),
            ('ec2-instance-connect', lambda c: c.send_ssh_public_key(
                InstanceId='i-0b1e0000000000001', InstanceOSUser='ec2-user', SSHPublicKey='ssh-ed25519 ' + 'A' * 80),
             'ThrottlingException', 400)]:
        srv.admin('POST', '/faults', {'service': service, 'kind': 'throttle', 'count': 1})
        t.error(lambda: call(T.client(srv, service)), code, '%s throttles with %s (HTTP %d)' % (service, code, status),
                status=status)
    srv.admin('POST', '/faults', {'service': 'rds', 'operation': 'DescribeDBInstances', 'kind': 'throttle',
                                  'count': 2})
    r = T.client(srv, 'rds', retries=2).describe_db_instances()
    t.eq(r['ResponseMetadata']['RetryAttempts'], 2, "botocore's standard retries ride out two throttles")
    srv.admin('POST', '/faults', {'service': 'elasticbeanstalk', 'kind': '5xx', 'status': 503})
    t.error(lambda: T.client(srv, 'elasticbeanstalk').describe_environments(), 'ServiceUnavailable',
            'a 503 fault answers ServiceUnavailable', status=503)
    srv.admin('POST', '/faults', {'service': 'ec2', 'kind': '5xx', 'status': 500})
    t.error(lambda: T.client(srv, 'ec2').describe_instances(), 'InternalError',
            'a 500 fault on EC2 answers InternalError', status=500)
    srv.admin('POST', '/faults', {'service': 'sts', 'kind': 'drop'})
    try:
        T.client(srv, 'sts').get_caller_identity()
        t.ok(False, 'a dropped connection fails the call')
    except (ConnectionClosedError, EndpointConnectionError) as e:
        t.ok(True, 'a dropped connection fails the call (%s)' % type(e).__name__)
    except Exception as e:
        t.ok(False, 'a dropped connection fails the call', repr(e))
    for kind in ('truncate', 'garbage'):
        srv.admin('POST', '/faults', {'service': 'sts', 'kind': kind})
        try:
            T.client(srv, 'sts').get_caller_identity()
            t.ok(False, 'a %s fault fails the call' % kind)
        except Exception as e:
            t.ok(True, 'a %s fault fails the call (%s)' % (kind, type(e).__name__))
    t.eq(T.client(srv, 'sts').get_caller_identity()['Account'], '123456789012', 'and the next call works')
    srv.admin('POST', '/faults', {'service': 'sts', 'kind': 'latency', 'seconds': 0.5})
    t0 = time.time()
    T.client(srv, 'sts').get_caller_identity()
    t.ok(time.time() - t0 >= 0.5, 'a latency fault delays the answer')
    srv.admin('POST', '/faults', {'service': 'rds', 'kind': 'throttle', 'skip': 1})
    rds = T.client(srv, 'rds')
    rds.describe_db_instances()
    t.error(lambda: rds.describe_db_instances(), 'Throttling', "'skip' lets the first matching call through")
    srv.admin('POST', '/faults', {'kind': 'error', 'service': 'route53', 'code': 'PriorRequestNotComplete',
                                  'status': 400})
    t.error(lambda: T.client(srv, 'route53').get_change(Id='x'), 'PriorRequestNotComplete',
            'an arbitrary error code can be injected')
    t.eq(srv.admin('GET', '/faults')['faults'], [], 'spent faults are gone')
    sts = T.client(srv, 'sts')
    srv.admin('POST', '/credentials', {'access_key': T.KEY['access_key'], 'expired': True})
    t.error(lambda: sts.get_caller_identity(), 'ExpiredToken', 'credentials expired through the admin API')
    srv.admin('POST', '/credentials', {'access_key': T.KEY['access_key'], 'expired': False})
    t.eq(sts.get_caller_identity()['Account'], '123456789012', 'and restored')


def waiter_fails(client, waiter, args, word, name):
    """A botocore waiter must stop with a failure that names `word`."""
    from botocore.exceptions import WaiterError
    try:
        client.get_waiter(waiter).wait(WaiterConfig={'Delay': 0.1, 'MaxAttempts': 50}, **args)
        t.ok(False, name, 'the waiter succeeded')
    except WaiterError as e:
        t.ok(word in str(e) and 'failure state' in str(e), name, e)


def test_time():
    srv.admin('POST', '/time', {'durations': {'env_update': 1000}})
    eb = T.client(srv, 'elasticbeanstalk')
    eb.update_environment(EnvironmentName='cobalt-ses-production-green', OptionSettings=[
        {'Namespace': 'aws:elasticbeanstalk:application:environment', 'OptionName': 'MAINTENANCE_MODE',
         'Value': 'ON'}])
    time.sleep(0.3)
    st = lambda: eb.describe_environments(EnvironmentNames=['cobalt-ses-production-green'])['Environments'][0]
    t.eq(st()['Status'], 'Updating', 'a long update is still Updating')
    srv.admin('POST', '/time', {'advance': 1001})
    t.eq(st()['Status'], 'Ready', 'fast-forwarding the clock finishes it')
    # The realistic profile: AWS's durations times the scale, named in GET /time.
    got = srv.admin('POST', '/time', {'profile': 'aws', 'scale': 0.05})
    t.eq((got['profile'], got['scale'], got['durations']['db_create'], got['durations']['dns_change']),
         ('aws', 0.05, 30.0, 3.0), 'profile "aws" at scale 0.05: a 600 s restore takes 30 s, INSYNC 3 s')
    for bad in ({'profile': 'nope'}, {'profile': 'aws', 'scale': 2}, {'profile': 'aws', 'scale': 0}):
        try:
            srv.admin('POST', '/time', bad)
            t.ok(False, 'refused: %s' % bad)
        except RuntimeError as e:
            t.ok('profile' in str(e) or 'scale' in str(e), 'refused: %s' % bad, e)
    srv.admin('POST', '/time', {'durations': T.FAST})
    srv.admin('POST', '/outcomes', {'kind': 'env_update', 'result': 'fail'})
    r = eb.update_environment(EnvironmentName='cobalt-ses-production-green', OptionSettings=[
        {'Namespace': 'aws:elasticbeanstalk:application:environment', 'OptionName': 'MAINTENANCE_MODE',
         'Value': 'OFF'}])
    eb.get_waiter('environment_updated').wait(EnvironmentNames=['cobalt-ses-production-green'],
                                              WaiterConfig={'Delay': 0.1, 'MaxAttempts': 100})
    ev = [e['Message'] for e in eb.describe_events(RequestId=r['ResponseMetadata']['RequestId'])['Events']]
    t.ok('Failed to deploy configuration.' in ev, 'a failed update reports "Failed to deploy configuration."', ev)
    cfg = eb.describe_configuration_settings(ApplicationName='cobalt', EnvironmentName='cobalt-ses-production-green')
    val = {o['OptionName']: o.get('Value') for o in cfg['ConfigurationSettings'][0]['OptionSettings']}
    t.eq(val['MAINTENANCE_MODE'], 'ON', 'and the settings stay as they were')
    rds = T.client(srv, 'rds')
    srv.admin('POST', '/outcomes', {'kind': 'snapshot', 'result': 'failed'})
    rds.create_db_snapshot(DBSnapshotIdentifier='doomed', DBInstanceIdentifier='cobalt-test')
    waiter_fails(rds, 'db_snapshot_available', {'DBSnapshotIdentifier': 'doomed'}, 'failed',
                 'the DBSnapshotAvailable waiter fails on a failed snapshot')
    T.wait_for(lambda: rds.describe_db_instances(DBInstanceIdentifier='cobalt-test')['DBInstances'][0]
               ['DBInstanceStatus'] == 'available')
    srv.admin('POST', '/outcomes', {'kind': 'restore', 'result': 'incompatible-restore'})
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier='doomed-db',
                                             DBSnapshotIdentifier='production-blue-before-6-0')
    waiter_fails(rds, 'db_instance_available', {'DBInstanceIdentifier': 'doomed-db'}, 'incompatible-restore',
                 'the DBInstanceAvailable waiter fails on incompatible-restore')
    srv.admin('POST', '/set', {'kind': 'db_instance', 'id': 'production-blue', 'set': {'status': 'storage-full'}})
    t.eq(rds.describe_db_instances(DBInstanceIdentifier='production-blue')['DBInstances'][0]['DBInstanceStatus'],
         'storage-full', '/_sim/set edits a resource directly')


def test_state_calls_reset():
    srv.admin('DELETE', '/calls')
    sts = T.client(srv, 'sts')
    for _ in range(3):
        sts.get_caller_identity()
    c = srv.admin('GET', '/calls?service=sts')
    t.eq((c['count'], c['calls'][0]['operation'], c['calls'][0]['status']), (3, 'GetCallerIdentity', 200),
         'the call log counts calls per service and operation')
    st = srv.state()
    t.ok({'environments', 'instances', 'db_instances', 'db_snapshots', 'zones', 'changes'} <= set(st),
         'the state dump has every part of the world')
    t.ok(any(e['name'] == 'cobalt-ses-production-green' and e['env_vars']['MAINTENANCE_MODE'] == 'ON'
             for e in st['environments']), 'the dump shows env vars')
    srv.admin('POST', '/reset', {})
    st = srv.state()
    t.ok(not any(s['id'] == 'doomed' for s in st['db_snapshots']) and
         next(d for d in st['db_instances'] if d['id'] == 'production-blue')['status'] == 'available',
         'reset reloads the world file')
    w = T.WORLD.copy()
    w['rds'] = dict(w['rds'], instances=w['rds']['instances'][:1])
    srv.admin('POST', '/reset', {'world': w})
    t.eq([d['id'] for d in srv.state()['db_instances']], ['production-blue'], 'reset can load a given world')
    try:
        srv.admin('POST', '/faults', {'kind': 'meteor'})
        t.ok(False, 'an unknown fault kind is refused')
    except RuntimeError as e:
        t.ok('fault kind' in str(e), 'an unknown fault kind is refused with a message', e)


def test_https():
    import subprocess
    d = srv.dir
    subprocess.run('openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 '
                   '-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout k.pem -out c.pem',
                   shell=True, cwd=d, check=True, capture_output=True)
    s2 = T.Server(https=(os.path.join(d, 'c.pem'), os.path.join(d, 'k.pem')))
    try:
        url = 'https://127.0.0.1:%d' % s2.ports['https_port']
        import botocore.config
        c = T.session().create_client('sts', endpoint_url=url, verify=os.path.join(d, 'c.pem'))
        t.eq(c.get_caller_identity()['Account'], '123456789012', 'HTTPS with the CA bundle verifies and works')
        c = T.session().create_client('sts', endpoint_url=url, config=botocore.config.Config(
            retries={'total_max_attempts': 1}))
        try:
            c.get_caller_identity()
            t.ok(False, 'HTTPS without the CA bundle fails verification')
        except Exception as e:
            t.ok('CERTIFICATE_VERIFY_FAILED' in str(e) or 'SSL' in str(e),
                 'HTTPS without the CA bundle fails verification', e)
    finally:
        s2.stop()


def test_credential_providers():
    from botocore.credentials import ContainerProvider, InstanceMetadataProvider
    from botocore.utils import InstanceMetadataFetcher
    f = InstanceMetadataFetcher(timeout=2, num_attempts=1, config={'ec2_metadata_service_endpoint': srv.url + '/'})
    creds = InstanceMetadataProvider(iam_role_fetcher=f).load()
    t.ok(creds is not None and creds.access_key == T.SESSION['access_key'] and creds.token == T.SESSION['session_token'],
         "botocore's IMDSv2 provider gets the session credentials from the simulated IMDS")
    import urllib.request
    try:
        urllib.request.urlopen(srv.url + '/latest/meta-data/iam/security-credentials/', timeout=5)
        t.ok(False, 'IMDSv1 (no token) is refused')
    except urllib.error.HTTPError as e:
        t.eq(e.code, 401, 'IMDSv1 (no token) is refused')
    env = {'AWS_CONTAINER_CREDENTIALS_FULL_URI': srv.url + '/_sim/container-credentials',
           'AWS_CONTAINER_AUTHORIZATION_TOKEN': 'fakeaws-container-token'}
    creds = ContainerProvider(environ=env).load()
    t.ok(creds is not None and creds.access_key == T.SESSION['access_key'],
         "botocore's container provider gets credentials with the authorization token")
    try:
        ContainerProvider(environ=dict(env, AWS_CONTAINER_AUTHORIZATION_TOKEN='wrong')).load()
        t.ok(False, 'a wrong container authorization token is refused')
    except Exception as e:
        t.ok('401' in str(e) or 'Unauthorized' in str(e) or 'AccessDenied' in str(e),
             'a wrong container authorization token is refused', e)


for fn in (test_faults, test_time, test_state_calls_reset, test_https, test_credential_providers):
    t.run(fn, fn.__name__)
srv.stop()
t.done()
