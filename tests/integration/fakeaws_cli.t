#!/usr/bin/python3
# The real AWS CLI v2 (/usr/bin/aws, Debian's awscli; not the v1 on PATH)
# works against the simulated AWS: its own botocore signs, parses and waits.
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fakeaws'))
import testlib as T  # noqa: E402

AWS = '/usr/bin/aws'
t = T.Tap()
srv = T.Server(durations=T.FAST)
home = tempfile.mkdtemp(prefix='fakeaws-cli.')
env = {k: v for k, v in os.environ.items() if not k.startswith('AWS_')}
env.update({'HOME': home, 'AWS_CONFIG_FILE': os.path.join(home, 'config'),
            'AWS_SHARED_CREDENTIALS_FILE': os.path.join(home, 'credentials'),
            'AWS_ACCESS_KEY_ID': T.KEY['access_key'], 'AWS_SECRET_ACCESS_KEY': T.KEY['secret_key'],
            'AWS_DEFAULT_REGION': 'ap-southeast-2', 'AWS_PAGER': '', 'AWS_MAX_ATTEMPTS': '1'})


def aws(*args, extra_env=None):
    e = dict(env, **(extra_env or {}))
    p = subprocess.run([AWS, '--endpoint-url', srv.url, '--output', 'json'] + list(args), env=e,
                       capture_output=True, text=True, timeout=120)
    out = None
    if p.returncode == 0 and p.stdout.strip():
        out = json.loads(p.stdout)
    return p.returncode, out, p.stderr


def test_cli():
    p = subprocess.run([AWS, '--version'], capture_output=True, text=True)
    t.ok(p.stdout.startswith('aws-cli/2.'), '/usr/bin/aws is the AWS CLI v2', p.stdout + p.stderr)
    # Read-only commands run side by side: each aws run costs ~2 s of start-up.
    expired = {'AWS_ACCESS_KEY_ID': T.EXPIRED['access_key'], 'AWS_SECRET_ACCESS_KEY': T.EXPIRED['secret_key'],
               'AWS_SESSION_TOKEN': T.EXPIRED['session_token']}
    cases = [
        (('elasticbeanstalk', 'describe-environments', '--application-name', 'cobalt'), None,
         lambda rc, out, err: rc == 0 and len(out['Environments']) == 5, 'aws elasticbeanstalk describe-environments'),
        (('rds', 'describe-db-instances'), None,
         lambda rc, out, err: rc == 0 and {d['DBInstanceIdentifier'] for d in out['DBInstances']} ==
         {'production-blue', 'cobalt-test'}, 'aws rds describe-db-instances'),
        (('route53', 'list-resource-record-sets', '--hosted-zone-id', 'Z0FAKEMYABF00000001', '--page-size', '2'),
         None, lambda rc, out, err: rc == 0 and len(out['ResourceRecordSets']) == 11,
         'aws route53 list-resource-record-sets pages to the end'),
        (('sts', 'get-caller-identity'), None, lambda rc, out, err: rc == 0 and out['Arn'] == T.KEY['arn'],
         'aws sts get-caller-identity'),
        (('ec2', 'describe-instances', '--filters',
          'Name=tag:elasticbeanstalk:environment-name,Values=cobalt-production-blue'), None,
         lambda rc, out, err: rc == 0 and len(out['Reservations']) == 2, 'aws ec2 describe-instances --filters'),
        (('sts', 'get-caller-identity'), expired, lambda rc, out, err: rc != 0 and 'ExpiredToken' in err,
         'the CLI reports ExpiredToken for expired credentials'),
        (('sts', 'get-caller-identity'), {'AWS_SECRET_ACCESS_KEY': 'wrong'},
         lambda rc, out, err: rc != 0 and 'SignatureDoesNotMatch' in err,
         'the CLI reports SignatureDoesNotMatch for a wrong secret'),
    ]
    with concurrent.futures.ThreadPoolExecutor(len(cases)) as pool:
        results = list(pool.map(lambda c: aws(*c[0], extra_env=c[1]), cases))
    for (args, _, check, name), (rc, out, err) in zip(cases, results):
        try:
            good = check(rc, out, err)
        except (TypeError, KeyError):
            good = False
        t.ok(good, name, (rc, err))
    rc, out, err = aws('route53', 'change-resource-record-sets', '--hosted-zone-id', 'Z0FAKEMYABF00000001',
                       '--change-batch', json.dumps({'Changes': [{'Action': 'UPSERT', 'ResourceRecordSet': {
                           'Name': 'www.myabf.com.au.', 'Type': 'A', 'AliasTarget': {
                               'HostedZoneId': 'Z2PCDNR3VC2G1N', 'EvaluateTargetHealth': False,
                               'DNSName': 'cobalt-production-green.ap-southeast-2.elasticbeanstalk.com.'}}}]}))
    t.ok(rc == 0 and out['ChangeInfo']['Status'] == 'PENDING', 'aws route53 change-resource-record-sets', err)
    # The CLI's waiter polls every 30 s; the CLI reads models from
    # ~/.aws/models before its own, so a copy of the RDS waiters with a 1 s
    # delay keeps this test short while the CLI still does the waiting.
    src = '/usr/lib/python3/dist-packages/botocore/data/rds/2014-10-31/waiters-2.json'
    with open(src) as f:
        waiters = json.load(f)
    for w in waiters['waiters'].values():
        w['delay'] = 1
    d = os.path.join(home, '.aws', 'models', 'rds', '2014-10-31')
    os.makedirs(d)
    with open(os.path.join(d, 'waiters-2.json'), 'w') as f:
        json.dump(waiters, f)
    # The restore stays creating until the CLI has polled it at least once
    # (however slowly the CLI starts), then the clock jumps to its end.
    srv.admin('POST', '/time', {'durations': {'db_create': 3600}})
    srv.admin('DELETE', '/calls')
    rds = T.client(srv, 'rds')
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier='cobalt-production-green',
                                             DBSnapshotIdentifier='production-blue-before-6-0',
                                             DBInstanceClass='db.t3.small')
    polls = lambda: srv.admin('GET', '/calls?service=rds&operation=DescribeDBInstances')['count']  # noqa: E731
    t0 = time.time()
    p = subprocess.Popen([AWS, '--endpoint-url', srv.url, 'rds', 'wait', 'db-instance-available',
                          '--db-instance-identifier', 'cobalt-production-green'], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = T.wait_for(lambda: polls() >= 1, timeout=60)
    still_waiting = p.poll() is None
    srv.admin('POST', '/time', {'advance': 3601})
    _, err = p.communicate(timeout=60)
    took = time.time() - t0
    t.ok(first and still_waiting and p.returncode == 0 and polls() >= 2,
         'aws rds wait db-instance-available waits through creating -> available (%.0f s, %d polls)'
         % (took, polls()), err)
    rc, out, err = aws('rds', 'wait', 'db-instance-available', '--db-instance-identifier', 'production-blue')
    t.ok(rc == 0, 'aws rds wait on an available instance returns at once', err)


t.run(test_cli, 'cli')
srv.stop()
t.done()
