#!/usr/bin/python3
# The simulated AWS enforces IAM identity-based policies on every call
# (tests/fakeaws/iampolicy.py): Allow by action and resource ARN with
# wildcards, implicit deny, explicit deny winning, conditions; a denied call
# gets the AccessDenied each protocol answers (query, EC2, Route 53 REST-XML,
# JSON), which botocore and the AWS CLI parse; a caller without a policy may
# do anything; a policy the simulation cannot evaluate is refused.
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fakeaws'))
import testlib as T  # noqa: E402

t = T.Tap()
srv = T.Server(durations=T.FAST)
USER = T.KEY['arn']                # arn:aws:iam::123456789012:user/cutover-operator
R = 'arn:aws:rds:ap-southeast-2:123456789012:'
EB = 'arn:aws:elasticbeanstalk:ap-southeast-2:123456789012:'


def policy(*statements, principal=USER):
    return srv.admin('POST', '/policy', {'principal': principal,
                                         'document': {'Version': '2012-10-17', 'Statement': list(statements)}})


def allow(action, resource, **kw):
    return dict({'Effect': 'Allow', 'Action': action, 'Resource': resource}, **kw)


def denied(fn, code, status, name, want_in=()):
    from botocore.exceptions import ClientError
    try:
        fn()
    except ClientError as e:
        msg = e.response['Error'].get('Message') or ''
        st = e.response['ResponseMetadata'].get('HTTPStatusCode')
        return t.ok(e.response['Error'].get('Code') == code and st == status and all(w in msg for w in want_in),
                    name, 'got %s (HTTP %s): %s' % (e.response['Error'].get('Code'), st, msg))
    return t.ok(False, name, 'no error raised')


def test_query():
    rds = T.client(srv, 'rds')
    t.ok(rds.describe_db_instances()['DBInstances'], 'without a policy every call is allowed')
    policy(allow('rds:Describe*', R + 'db:*'))
    t.ok(rds.describe_db_instances(DBInstanceIdentifier='production-blue')['DBInstances'],
         'an action wildcard and a resource wildcard allow DescribeDBInstances')
    denied(lambda: rds.create_db_snapshot(DBInstanceIdentifier='production-blue', DBSnapshotIdentifier='p1'),
           'AccessDenied', 403, 'an action no statement names is implicitly denied: AccessDenied 403',
           ('User: %s is not authorized to perform: rds:CreateDBSnapshot on resource: %sdb:production-blue '
            'because no identity-based policy allows the rds:CreateDBSnapshot action' % (USER, R),))
    policy(allow('rds:CreateDBSnapshot', [R + 'db:production-blue', R + 'snapshot:p*']))
    t.ok(rds.create_db_snapshot(DBInstanceIdentifier='production-blue', DBSnapshotIdentifier='p1'),
         'CreateDBSnapshot allowed on the database and a snapshot name pattern')
    denied(lambda: rds.create_db_snapshot(DBInstanceIdentifier='production-blue', DBSnapshotIdentifier='q1'),
           'AccessDenied', 403, 'every resource of a call must be allowed: the snapshot ARN too',
           (R + 'snapshot:q1',))
    policy(allow('rds:*', '*'), {'Effect': 'Deny', 'Action': 'rds:Create*', 'Resource': R + 'db:production-*'})
    denied(lambda: rds.create_db_snapshot(DBInstanceIdentifier='production-blue', DBSnapshotIdentifier='p2'),
           'AccessDenied', 403, 'an explicit Deny wins over an Allow',
           ('with an explicit deny in an identity-based policy',))
    t.ok(rds.create_db_snapshot(DBInstanceIdentifier='cobalt-test', DBSnapshotIdentifier='p3'),
         'the Deny holds only where its resource matches')
    policy(allow('RDS:describedbinstances', R + 'db:cobalt-tes?'))
    t.ok(rds.describe_db_instances(DBInstanceIdentifier='cobalt-test')['DBInstances'],
         'action names match without regard to case; ? matches one character')
    policy(allow('rds:DescribeDBInstances', R + 'db:cobalt-test'))
    denied(lambda: rds.describe_db_instances(), 'AccessDenied', 403,
           'listing every instance is authorised against db:*', (R + 'db:*',))
    policy(allow('rds:RestoreDBInstanceFromDBSnapshot', '*'))
    denied(lambda: rds.restore_db_instance_from_db_snapshot(
        DBInstanceIdentifier='n1', DBSnapshotIdentifier='production-blue-before-6-0',
        Tags=[{'Key': 'a', 'Value': 'b'}]), 'AccessDenied', 403,
        'a restore with tags also needs rds:AddTagsToResource', ('rds:AddTagsToResource',))
    eb = T.client(srv, 'elasticbeanstalk')
    policy(allow('elasticbeanstalk:DescribeEnvironments', EB + 'environment/cobalt/cobalt-production-*'))
    t.ok(eb.describe_environments(ApplicationName='cobalt', EnvironmentNames=['cobalt-production-blue']),
         'EB: DescribeEnvironments of named environments is checked on their ARNs')
    denied(lambda: eb.update_environment(EnvironmentName='cobalt-production-blue'), 'AccessDenied', 403,
           'EB: UpdateEnvironment denied, naming the environment ARN',
           (EB + 'environment/cobalt/cobalt-production-blue',))
    policy(allow('elasticbeanstalk:*', EB + 'environment/cobalt/*'))
    try:
        eb.describe_environment_resources(EnvironmentName='no-such-env')
        t.ok(False, 'EB: an environment that does not exist gets its not-found error, not AccessDenied')
    except Exception as e:
        t.ok('AccessDenied' not in str(e) and 'no-such-env' in str(e),
             'EB: an environment that does not exist gets its not-found error, not AccessDenied', e)
    sts = T.client(srv, 'sts')
    t.eq(sts.get_caller_identity()['Arn'], USER, 'GetCallerIdentity needs no permission, as on AWS')


def test_other_protocols():
    ec2 = T.client(srv, 'ec2')
    policy(allow('ec2:Describe*', '*'))
    t.ok(ec2.describe_instances()['Reservations'], 'EC2: Describe* on * allows DescribeInstances')
    denied(lambda: ec2.authorize_security_group_ingress(GroupId='sg-0eb1e5eb00000001a', IpProtocol='tcp',
                                                        FromPort=22, ToPort=22, CidrIp='10.0.0.1/32'),
           'UnauthorizedOperation', 403, 'EC2: UnauthorizedOperation 403 in the EC2 shape, with an encoded message',
           ('You are not authorized to perform this operation.',
            'arn:aws:ec2:ap-southeast-2:123456789012:security-group/sg-0eb1e5eb00000001a',
            'Encoded authorization failure message:'))
    r53 = T.client(srv, 'route53')
    policy(allow('route53:ListHostedZonesByName', '*'))
    zid = r53.list_hosted_zones_by_name(DNSName='myabf.com.au.')['HostedZones'][0]['Id'].split('/')[-1]
    t.eq(zid, 'Z0FAKEMYABF00000001', 'Route 53: ListHostedZonesByName on *')
    denied(lambda: r53.list_resource_record_sets(HostedZoneId=zid), 'AccessDenied', 403,
           'Route 53: AccessDenied 403 naming the hosted zone ARN',
           ('arn:aws:route53:::hostedzone/' + zid,))
    policy(allow('route53:ChangeResourceRecordSets', 'arn:aws:route53:::hostedzone/' + zid, Condition={
        'ForAllValues:StringEquals': {'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['policy-test.myabf.com.au']}}))
    ch = {'Changes': [{'Action': 'UPSERT', 'ResourceRecordSet': {'Name': 'policy-test.myabf.com.au.', 'Type': 'TXT',
                                                                   'TTL': 60, 'ResourceRecords': [{'Value': '"x"'}]}}]}
    t.ok(r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch=ch), 'Route 53: a change allowed by condition')
    ch['Changes'][0]['ResourceRecordSet']['Name'] = 'www.myabf.com.au.'
    denied(lambda: r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch=ch), 'AccessDenied', 403,
           'Route 53: the same change of another name is denied by the condition')
    eic = T.client(srv, 'ec2-instance-connect')
    inst = 'arn:aws:ec2:ap-southeast-2:123456789012:instance/*'
    policy(allow('ec2-instance-connect:SendSSHPublicKey', inst, Condition={'StringEquals': {'ec2:osuser': 'ec2-user'}}))
    key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPbXq4kCqPIkEQuLF1rEeKf7aM4vExBNnvbf7N8rLnD3 t'
    t.ok(eic.send_ssh_public_key(InstanceId='i-0b1e0000000000001', InstanceOSUser='ec2-user', SSHPublicKey=key)
         ['Success'], 'Instance Connect: allowed for the os user the condition names')
    denied(lambda: eic.send_ssh_public_key(InstanceId='i-0b1e0000000000001', InstanceOSUser='root',
                                           SSHPublicKey=key), 'AccessDeniedException', 400,
           'Instance Connect: another os user gets AccessDeniedException (JSON shape) naming the instance',
           ('ec2-instance-connect:SendSSHPublicKey on resource: arn:aws:ec2:ap-southeast-2:123456789012:'
            'instance/i-0b1e0000000000001',))
    st, hdr, body = T.raw(srv, 'ec2-instance-connect', json.dumps({
        'InstanceId': 'i-0b1e0000000000001', 'InstanceOSUser': 'root', 'SSHPublicKey': key}),
        headers={'X-Amz-Target': 'AWSEC2InstanceConnectService.SendSSHPublicKey'},
        content_type='application/x-amz-json-1.1')
    t.eq((st, hdr.get('x-amzn-ErrorType'), T.error_code(body)[0]), (400, 'AccessDeniedException',
                                                                     'AccessDeniedException'),
         'Instance Connect: the error type is in the x-amzn-ErrorType header too')


def test_principals_and_admin():
    rds = T.client(srv, 'rds')
    policy(allow('rds:DescribeDBSnapshots', '*'), principal=T.SESSION['arn'])
    t.ok(rds.describe_db_instances()['DBInstances'], "a policy attached to someone else does not limit this caller")
    denied(lambda: T.client(srv, 'rds', cred=T.SESSION).describe_db_instances(), 'AccessDenied', 403,
           'it limits the caller it is attached to', (T.SESSION['arn'],))
    for bad, what in (({'Version': '2008-10-17', 'Statement': []}, 'an old Version'),
                      ({'Version': '2012-10-17', 'Statement': [allow('rds:*', '*', Sid='has-dash')]}, 'a Sid IAM refuses'),
                      ({'Version': '2012-10-17', 'Statement': [allow('rds:*', '*', Condition={
                          'DateGreaterThan': {'aws:CurrentTime': '2020-01-01T00:00:00Z'}})]}, 'an operator it cannot evaluate'),
                      ({'Version': '2012-10-17', 'Statement': [allow('rds:*', '*', Principal='*')]}, 'a Principal element')):
        try:
            srv.admin('POST', '/policy', {'document': bad})
            t.ok(False, 'the admin API refuses %s' % what)
        except RuntimeError as e:
            t.ok('error' in str(e), 'the admin API refuses %s' % what, e)
    srv.admin('DELETE', '/policy')
    t.ok(T.client(srv, 'rds', cred=T.SESSION).describe_db_instances()['DBInstances'], 'DELETE /_sim/policy lifts it')
    policy(allow('rds:DescribeDBSnapshots', '*'))
    srv.admin('POST', '/reset', {})
    t.ok(rds.describe_db_instances()['DBInstances'], 'a reset clears the policies (the world file has none)')
    calls = srv.admin('GET', '/calls?service=rds&operation=DescribeDBInstances')['calls']
    t.ok(all(c['code'] is None for c in calls), 'after the reset the call log is clean')


def test_cli():
    home = tempfile.mkdtemp(prefix='fakeaws-policy.')
    env = {k: v for k, v in os.environ.items() if not k.startswith('AWS_')}
    env.update({'HOME': home, 'AWS_CONFIG_FILE': os.path.join(home, 'c'), 'AWS_SHARED_CREDENTIALS_FILE':
                os.path.join(home, 'k'), 'AWS_ACCESS_KEY_ID': T.KEY['access_key'],
                'AWS_SECRET_ACCESS_KEY': T.KEY['secret_key'], 'AWS_DEFAULT_REGION': 'ap-southeast-2',
                'AWS_PAGER': '', 'AWS_MAX_ATTEMPTS': '1'})
    policy(allow('rds:DescribeDBSnapshots', '*'))
    p = subprocess.run(['/usr/bin/aws', '--endpoint-url', srv.url, 'rds', 'delete-db-instance',
                        '--db-instance-identifier', 'cobalt-test', '--skip-final-snapshot'],
                       env=env, capture_output=True, text=True, timeout=120)
    t.ok(p.returncode != 0 and '(AccessDenied) when calling the DeleteDBInstance operation' in p.stderr and
         'User: %s is not authorized to perform: rds:DeleteDBInstance on resource: %sdb:cobalt-test' % (USER, R)
         in p.stderr,
         'the AWS CLI parses the AccessDenied and shows its message', p.stderr)
    st = srv.state()
    t.ok(any(d['id'] == 'cobalt-test' and d['status'] == 'available' for d in st['db_instances']),
         'and the denied call changed nothing')


t.run(test_query, 'query protocol')
t.run(test_other_protocols, 'EC2, Route 53, JSON')
t.run(test_principals_and_admin, 'principals and admin')
t.run(test_cli, 'AWS CLI')
srv.stop()
t.done()
