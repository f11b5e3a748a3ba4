#!/usr/bin/python3
# The simulated AWS answers every operation the cutover uses in a form
# botocore's own parsers accept, and every raw response is also walked
# strictly against the botocore model (unknown or misplaced elements fail).
# Drives a private server with real botocore clients, so every call also
# passes the server's SigV4 check.
import base64
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fakeaws'))
import testlib as T  # noqa: E402
import botocore.exceptions  # noqa: E402

t = T.Tap()
srv = T.Server(durations=dict(T.FAST, env_update=1.0))
problems = []
eb = T.strict_client(srv, 'elasticbeanstalk', problems)
rds = T.strict_client(srv, 'rds', problems)
r53 = T.strict_client(srv, 'route53', problems)
ec2 = T.strict_client(srv, 'ec2', problems)
sts = T.strict_client(srv, 'sts', problems)
eic = T.strict_client(srv, 'ec2-instance-connect', problems)
ssm = T.strict_client(srv, 'ssm', problems)
FAST_WAIT = {'Delay': 0.1, 'MaxAttempts': 100}
covered = set()


def did(service, op):
    covered.add((service, op))


def test_eb():
    r = eb.describe_environments(ApplicationName='cobalt')
    did('elasticbeanstalk', 'DescribeEnvironments')
    names = sorted(e['EnvironmentName'] for e in r['Environments'])
    t.eq(names, ['cobalt-production-blue', 'cobalt-production-green', 'cobalt-ses-production-blue',
                 'cobalt-ses-production-green', 'cobalt-test-black'],
         'DescribeEnvironments lists the five environments (two pairs, one test)')
    blue = next(e for e in r['Environments'] if e['EnvironmentName'] == 'cobalt-production-blue')
    t.eq((blue['Status'], blue['Health'], blue['CNAME']),
         ('Ready', 'Green', 'cobalt-production-blue.ap-southeast-2.elasticbeanstalk.com'),
         'an environment has status, health and CNAME')
    pages = list(eb.get_paginator('describe_environments').paginate(PaginationConfig={'PageSize': 1}))
    t.eq(sum(len(p['Environments']) for p in pages), 5, 'DescribeEnvironments pages with NextToken')
    t.ok(len(pages) >= 5, 'one environment per page when MaxRecords=1', len(pages))

    r = eb.describe_environment_resources(EnvironmentName='cobalt-production-blue')
    did('elasticbeanstalk', 'DescribeEnvironmentResources')
    t.eq([i['Id'] for i in r['EnvironmentResources']['Instances']], ['i-0b1e0000000000001', 'i-0b1e0000000000002'],
         'DescribeEnvironmentResources gives the instances')

    r = eb.describe_configuration_settings(ApplicationName='cobalt', EnvironmentName='cobalt-production-blue')
    did('elasticbeanstalk', 'DescribeConfigurationSettings')
    opts = {(o['Namespace'], o['OptionName']): o.get('Value') for o in r['ConfigurationSettings'][0]['OptionSettings']}
    t.eq(opts[('aws:elasticbeanstalk:application:environment', 'RDS_DB_NAME')], 'ebdb',
         'DescribeConfigurationSettings gives the env vars')

    r = eb.update_environment(EnvironmentName='cobalt-production-blue', OptionSettings=[
        {'Namespace': 'aws:autoscaling:asg', 'OptionName': 'MinSize', 'Value': '1'},
        {'Namespace': 'aws:autoscaling:asg', 'OptionName': 'MaxSize', 'Value': '1'},
        {'Namespace': 'aws:elasticbeanstalk:application:environment', 'OptionName': 'MAINTENANCE_MODE',
         'Value': 'ON'}],
        OptionsToRemove=[{'Namespace': 'aws:elasticbeanstalk:application:environment', 'OptionName': 'DEBUG'}])
    did('elasticbeanstalk', 'UpdateEnvironment')
    rid = r['ResponseMetadata']['RequestId']
    t.eq(r['Status'], 'Updating', 'UpdateEnvironment answers Updating')
    r = eb.describe_configuration_settings(ApplicationName='cobalt', EnvironmentName='cobalt-production-blue')
    t.eq([c['DeploymentStatus'] for c in r['ConfigurationSettings']], ['deployed', 'pending'],
         'during an update the deployed and pending settings both come back')
    eb.get_waiter('environment_updated').wait(EnvironmentNames=['cobalt-production-blue'], WaiterConfig=FAST_WAIT)
    ev = eb.describe_events(EnvironmentName='cobalt-production-blue', RequestId=rid)['Events']
    did('elasticbeanstalk', 'DescribeEvents')
    t.ok(any(e['Message'] == 'Environment update completed successfully.' for e in ev),
         'DescribeEvents by RequestId reports the update completed', ev)
    r = eb.describe_environment_resources(EnvironmentName='cobalt-production-blue')
    t.eq(len(r['EnvironmentResources']['Instances']), 1, 'MinSize=MaxSize=1 leaves one instance')
    st = srv.state()
    inst = next(i for i in st['instances'] if i['id'] == r['EnvironmentResources']['Instances'][0]['Id'])
    t.ok(inst['env_vars'].get('MAINTENANCE_MODE') == 'ON' and 'DEBUG' not in inst['env_vars'],
         "the instance's view of the env vars follows the update", inst['env_vars'])
    pages = list(eb.get_paginator('describe_events').paginate(EnvironmentName='cobalt-production-blue',
                                                               PaginationConfig={'PageSize': 1}))
    t.ok(len(pages) >= 3, 'DescribeEvents pages with NextToken', len(pages))

    r = eb.create_configuration_template(ApplicationName='cobalt', TemplateName='cutover-web',
                                         EnvironmentId='e-bluewebprd')
    did('elasticbeanstalk', 'CreateConfigurationTemplate')
    t.eq(r['TemplateName'], 'cutover-web', 'CreateConfigurationTemplate from a live environment')
    r = eb.create_environment(ApplicationName='cobalt', EnvironmentName='cobalt-production-red',
                              TemplateName='cutover-web', VersionLabel='cobalt-6.0.1',
                              CNAMEPrefix='cobalt-production-red', OptionSettings=[
                                  {'Namespace': 'aws:autoscaling:asg', 'OptionName': 'MinSize', 'Value': '2'},
                                  {'Namespace': 'aws:autoscaling:asg', 'OptionName': 'MaxSize', 'Value': '2'}])
    did('elasticbeanstalk', 'CreateEnvironment')
    t.eq((r['Status'], r['CNAME']), ('Launching', 'cobalt-production-red.ap-southeast-2.elasticbeanstalk.com'),
         'CreateEnvironment answers Launching with the CNAME asked for')
    eb.get_waiter('environment_exists').wait(EnvironmentNames=['cobalt-production-red'], WaiterConfig=FAST_WAIT)
    eb.delete_configuration_template(ApplicationName='cobalt', TemplateName='cutover-web')
    did('elasticbeanstalk', 'DeleteConfigurationTemplate')
    try:
        eb.delete_configuration_template(ApplicationName='cobalt', TemplateName='cutover-web')
        t.ok(False, 'DeleteConfigurationTemplate of a template that is gone fails')
    except botocore.exceptions.ClientError as e:
        t.eq(e.response['Error']['Code'], 'InvalidParameterValue',
             'DeleteConfigurationTemplate deletes; again it says the template is not found')
    r = eb.describe_environment_resources(EnvironmentName='cobalt-production-red')
    t.eq(len(r['EnvironmentResources']['Instances']), 2, 'the new environment launches MinSize instances')
    r = eb.terminate_environment(EnvironmentName='cobalt-production-red')
    did('elasticbeanstalk', 'TerminateEnvironment')
    t.eq(r['Status'], 'Terminating', 'TerminateEnvironment answers Terminating')
    eb.get_waiter('environment_terminated').wait(EnvironmentNames=['cobalt-production-red'], WaiterConfig=FAST_WAIT)
    t.ok(True, 'the EnvironmentTerminated waiter sees Terminated')


def test_rds():
    r = rds.describe_db_instances()
    did('rds', 'DescribeDBInstances')
    t.eq(sorted(d['DBInstanceIdentifier'] for d in r['DBInstances']), ['cobalt-test', 'production-blue'],
         'DescribeDBInstances lists the databases')
    pb = next(d for d in r['DBInstances'] if d['DBInstanceIdentifier'] == 'production-blue')
    t.eq(pb['Endpoint'], {'Address': 'production-blue.c97jawiow7ed.ap-southeast-2.rds.amazonaws.com',
                          'Port': 5432, 'HostedZoneId': 'Z32T0VRHXEXS0V'}, 'a database has its endpoint')
    r = rds.create_db_snapshot(DBSnapshotIdentifier='cutover-1', DBInstanceIdentifier='production-blue')
    did('rds', 'CreateDBSnapshot')
    t.eq(r['DBSnapshot']['Status'], 'creating', 'CreateDBSnapshot answers creating')
    seen = []
    for _ in range(200):
        s = rds.describe_db_snapshots(DBSnapshotIdentifier='cutover-1')['DBSnapshots'][0]
        seen.append(s['PercentProgress'])
        if s['Status'] == 'available':
            break
        time.sleep(0.02)
    did('rds', 'DescribeDBSnapshots')
    t.ok(seen[-1] == 100 and any(0 < p < 100 for p in seen) and seen == sorted(seen),
         'PercentProgress rises to 100 as the snapshot becomes available', seen)
    rds.get_waiter('db_snapshot_available').wait(DBSnapshotIdentifier='cutover-1', WaiterConfig=FAST_WAIT)
    rds.get_waiter('db_instance_available').wait(DBInstanceIdentifier='production-blue', WaiterConfig=FAST_WAIT)
    r = rds.restore_db_instance_from_db_snapshot(
        DBInstanceIdentifier='cobalt-production-green', DBSnapshotIdentifier='cutover-1',
        DBInstanceClass='db.t3.small', VpcSecurityGroupIds=['sg-0db00000000000d51'],
        DBSubnetGroupName='cobalt-production-db-subnets', Tags=[{'Key': 'cutover', 'Value': 'yes'}])
    did('rds', 'RestoreDBInstanceFromDBSnapshot')
    t.eq((r['DBInstance']['DBInstanceStatus'], 'Endpoint' in r['DBInstance']), ('creating', False),
         'a restore starts creating, without an endpoint yet')
    rds.get_waiter('db_instance_available').wait(DBInstanceIdentifier='cobalt-production-green',
                                                 WaiterConfig=FAST_WAIT)
    d = rds.describe_db_instances(DBInstanceIdentifier='cobalt-production-green')['DBInstances'][0]
    t.eq((d['DBInstanceClass'], d['DBName'], d['VpcSecurityGroups'][0]['VpcSecurityGroupId']),
         ('db.t3.small', 'ebdb', 'sg-0db00000000000d51'), 'the restored instance has the class, name and groups')
    r = rds.delete_db_instance(DBInstanceIdentifier='cobalt-test', FinalDBSnapshotIdentifier='cobalt-test-final')
    did('rds', 'DeleteDBInstance')
    t.eq(r['DBInstance']['DBInstanceStatus'], 'deleting', 'DeleteDBInstance answers deleting')
    rds.get_waiter('db_instance_deleted').wait(DBInstanceIdentifier='cobalt-test', WaiterConfig=FAST_WAIT)
    t.ok(any(s['DBSnapshotIdentifier'] == 'cobalt-test-final'
             for s in rds.describe_db_snapshots()['DBSnapshots']), 'the final snapshot exists')
    srv.admin('POST', '/options', {'rds_min_max_records': 1})
    pages = list(rds.get_paginator('describe_db_snapshots').paginate(PaginationConfig={'PageSize': 1}))
    t.ok(len(pages) >= 4 and all(len(p['DBSnapshots']) == 1 for p in pages),
         'DescribeDBSnapshots pages with Marker', len(pages))
    pages = list(rds.get_paginator('describe_db_instances').paginate(PaginationConfig={'PageSize': 1}))
    t.eq(len(pages), 2, 'DescribeDBInstances pages with Marker')


def test_route53():
    z = r53.list_hosted_zones_by_name(DNSName='myabf.com.au', MaxItems='1')
    did('route53', 'ListHostedZonesByName')
    t.eq(z['HostedZones'][0]['Name'], 'myabf.com.au.', 'ListHostedZonesByName finds the zone')
    zid = z['HostedZones'][0]['Id']
    rr = r53.list_resource_record_sets(HostedZoneId=zid)
    did('route53', 'ListResourceRecordSets')
    apex = next(r for r in rr['ResourceRecordSets'] if r['Name'] == 'myabf.com.au.' and r['Type'] == 'A')
    t.eq(apex['AliasTarget'], {'HostedZoneId': 'Z2PCDNR3VC2G1N', 'EvaluateTargetHealth': False,
                               'DNSName': 'cobalt-production-blue.ap-southeast-2.elasticbeanstalk.com.'},
         'the apex is an alias to the live web environment')
    pages = list(r53.get_paginator('list_resource_record_sets').paginate(HostedZoneId=zid,
                                                                         PaginationConfig={'PageSize': 2}))
    t.eq(sum(len(p['ResourceRecordSets']) for p in pages), len(rr['ResourceRecordSets']),
         'ListResourceRecordSets pages with NextRecordName/Type and loses nothing')
    r = r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={'Comment': 'cutover', 'Changes': [
        {'Action': 'UPSERT', 'ResourceRecordSet': {'Name': 'myabf.com.au.', 'Type': 'A', 'AliasTarget': {
            'HostedZoneId': 'Z2PCDNR3VC2G1N', 'EvaluateTargetHealth': False,
            'DNSName': 'cobalt-production-green.ap-southeast-2.elasticbeanstalk.com.'}}},
        {'Action': 'CREATE', 'ResourceRecordSet': {'Name': 'cutover.myabf.com.au', 'Type': 'TXT', 'TTL': 60,
                                                   'ResourceRecords': [{'Value': '"started"'}]}}]})
    did('route53', 'ChangeResourceRecordSets')
    t.eq(r['ChangeInfo']['Status'], 'PENDING', 'ChangeResourceRecordSets answers PENDING')
    r53.get_waiter('resource_record_sets_changed').wait(Id=r['ChangeInfo']['Id'], WaiterConfig=FAST_WAIT)
    g = r53.get_change(Id=r['ChangeInfo']['Id'])
    did('route53', 'GetChange')
    t.eq(g['ChangeInfo']['Status'], 'INSYNC', 'GetChange reaches INSYNC')


def test_ec2_sts_eic():
    r = ec2.describe_instances(InstanceIds=['i-0b1e0000000000001'])
    did('ec2', 'DescribeInstances')
    i = r['Reservations'][0]['Instances'][0]
    t.eq((i['PrivateIpAddress'], i['PublicIpAddress'], i['State']['Name'], i['SecurityGroups'][0]['GroupId']),
         ('172.31.10.11', '13.54.10.11', 'running', 'sg-0eb1e5eb00000001a'), 'DescribeInstances gives addresses')
    r = ec2.describe_instances(Filters=[{'Name': 'tag:elasticbeanstalk:environment-name',
                                         'Values': ['cobalt-ses-production-green']}])
    t.eq([x['Instances'][0]['InstanceId'] for x in r['Reservations']], ['i-06e5e500000000005'],
         'DescribeInstances filters by the EB environment tag')
    pages = list(ec2.get_paginator('describe_instances').paginate(PaginationConfig={'PageSize': 5}))
    t.ok(len(pages) >= 2, 'DescribeInstances pages with NextToken', len(pages))
    r = ec2.describe_security_groups(GroupIds=['sg-0e1b00000000001b0'])
    did('ec2', 'DescribeSecurityGroups')
    t.eq(sorted(p['FromPort'] for p in r['SecurityGroups'][0]['IpPermissions']), [80, 443],
         'DescribeSecurityGroups gives the rules')
    r = ec2.authorize_security_group_ingress(GroupId='sg-0eb1e5eb00000001a', IpProtocol='tcp', FromPort=22,
                                             ToPort=22, CidrIp='203.0.113.7/32')
    did('ec2', 'AuthorizeSecurityGroupIngress')
    t.ok(r['Return'] and r['SecurityGroupRules'][0]['CidrIpv4'] == '203.0.113.7/32',
         'AuthorizeSecurityGroupIngress opens port 22 to a /32', r)
    r = ec2.revoke_security_group_ingress(GroupId='sg-0eb1e5eb00000001a', IpPermissions=[
        {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'IpRanges': [{'CidrIp': '203.0.113.7/32'}]}])
    did('ec2', 'RevokeSecurityGroupIngress')
    t.ok(r['Return'], 'RevokeSecurityGroupIngress closes it again')
    r = sts.get_caller_identity()
    did('sts', 'GetCallerIdentity')
    t.eq((r['Account'], r['Arn']), ('123456789012', 'arn:aws:iam::123456789012:user/cutover-operator'),
         'GetCallerIdentity names the caller')
    r = T.client(srv, 'sts', cred=T.SESSION).get_caller_identity()
    t.eq(r['Arn'], T.SESSION['arn'], 'session credentials (signed X-Amz-Security-Token) are accepted')
    srv.admin('POST', '/roles', {'add': {'name': 'cutover-deploy', 'external_id': 'x-1'}})
    r = sts.assume_role(RoleArn='arn:aws:iam::123456789012:role/cutover-deploy', RoleSessionName='bench',
                        ExternalId='x-1', DurationSeconds=900)
    did('sts', 'AssumeRole')
    rc = r['Credentials']
    t.eq(r['AssumedRoleUser']['Arn'], 'arn:aws:sts::123456789012:assumed-role/cutover-deploy/bench',
         'AssumeRole names the assumed role and session')
    t.ok(799 < (rc['Expiration'] - datetime.datetime.now(datetime.timezone.utc)).total_seconds() <= 900,
         'AssumeRole credentials expire after DurationSeconds')
    role = {'access_key': rc['AccessKeyId'], 'secret_key': rc['SecretAccessKey'], 'session_token': rc['SessionToken']}
    r = T.client(srv, 'sts', cred=role).get_caller_identity()
    t.eq(r['Arn'], 'arn:aws:sts::123456789012:assumed-role/cutover-deploy/bench',
         'the assumed-role credentials sign later calls')
    key = 'ssh-ed25519 ' + base64.b64encode(b'\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20' + b'k' * 32).decode()
    r = eic.send_ssh_public_key(InstanceId='i-0b1e0000000000001', InstanceOSUser='ec2-user', SSHPublicKey=key)
    did('ec2-instance-connect', 'SendSSHPublicKey')
    t.eq(r['Success'], True, 'SendSSHPublicKey (JSON 1.1) succeeds')
    keys = srv.admin('GET', '/ssh-keys?instance=i-0b1e0000000000001&user=ec2-user')
    t.eq(keys.strip(), key, 'the pushed key is listed for the instance and user')


def test_ssm():
    r = ssm.describe_instance_information(Filters=[{'Key': 'InstanceIds', 'Values': ['i-0b1e0000000000001']}])
    did('ssm', 'DescribeInstanceInformation')
    t.eq([(i['InstanceId'], i['PingStatus']) for i in r['InstanceInformationList']],
         [('i-0b1e0000000000001', 'Online')], 'DescribeInstanceInformation: registered and Online by default')
    # The environment created above may still be launching instances, so the
    # pages are compared with one unpaged list taken right after them (again
    # if an instance registered in between).
    for _ in range(5):
        pages = list(ssm.get_paginator('describe_instance_information').paginate(PaginationConfig={'PageSize': 5}))
        paged = [i['InstanceId'] for p in pages for i in p['InstanceInformationList']]
        whole = [i['InstanceId'] for i in ssm.describe_instance_information(MaxResults=50)['InstanceInformationList']]
        if sorted(paged) == sorted(whole):
            break
        time.sleep(1)
    t.ok(len(pages) >= 2 and len(set(paged)) == len(paged) and sorted(paged) == sorted(whole),
         'DescribeInstanceInformation pages by MaxResults', '%d pages: %s vs %s' % (len(pages), paged, whole))
    r = ssm.start_session(Target='i-0b1e0000000000001', DocumentName='AWS-StartSSHSession',
                          Parameters={'portNumber': ['22']})
    did('ssm', 'StartSession')
    t.ok(r['StreamUrl'].startswith('ws://') and r['SessionId'] in r['StreamUrl'] and len(r['TokenValue']) > 32,
         'StartSession answers a session id, a token and the data channel URL', r['StreamUrl'])
    # The data channel checks the token before anything else.
    import asyncio
    import websockets
    import json as _json

    async def wrong_token():
        async with websockets.connect(r['StreamUrl']) as ws:
            await ws.send(_json.dumps({'MessageSchemaVersion': '1.0', 'RequestId': 'r', 'ClientId': 'c',
                                       'TokenValue': 'not-the-token'}))
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as e:
                return e.code
    t.eq(asyncio.run(wrong_token()), 1008, 'the data channel closes on a wrong token')
    st = [s for s in srv.admin('GET', '/state')['ssm_sessions'] if s['id'] == r['SessionId']][0]
    t.eq(st['protocol_errors'], ['wrong token'], 'and records it')
    t.ok('token' not in st, 'the state never shows the token')
    r2 = ssm.terminate_session(SessionId=r['SessionId'])
    did('ssm', 'TerminateSession')
    t.eq(r2['SessionId'], r['SessionId'], 'TerminateSession')
    for kw, code in ((dict(Target='i-0b1e0000000000001', DocumentName='AWS-RunShellScript'), 'InvalidDocument'),
                     (dict(Target='i-0ffffffffffffffff', DocumentName='AWS-StartSSHSession'), 'TargetNotConnected')):
        try:
            ssm.start_session(**kw)
            t.ok(False, 'StartSession refuses with %s' % code)
        except botocore.exceptions.ClientError as e:
            t.eq(e.response['Error']['Code'], code, 'StartSession refuses with %s' % code)


def test_concurrency():
    import concurrent.futures
    eb.update_environment(EnvironmentName='cobalt-ses-production-blue', OptionSettings=[
        {'Namespace': 'aws:elasticbeanstalk:application:environment', 'OptionName': 'MAINTENANCE_MODE',
         'Value': 'OFF'}])
    clients = [T.client(srv, s) for s in ('elasticbeanstalk', 'rds', 'ec2', 'route53')]
    calls = [lambda: clients[0].describe_environments(), lambda: clients[1].describe_db_instances(),
             lambda: clients[2].describe_instances(), lambda: clients[3].list_hosted_zones_by_name()] * 10
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = [r['ResponseMetadata']['HTTPStatusCode'] for r in pool.map(lambda f: f(), calls)]
    t.eq(codes, [200] * 40, '40 calls from 8 threads while an update runs all succeed')


def test_rds_replica():
    srv.admin('POST', '/reset', {})
    srv.admin('POST', '/time', {'durations': {'replica_create': 0.6, 'replica_promote': 0.6}})
    r = rds.create_db_instance_read_replica(
        DBInstanceIdentifier='cobalt-production-green', SourceDBInstanceIdentifier='production-blue',
        DBInstanceClass='db.t3.small', VpcSecurityGroupIds=['sg-0db00000000000d51'],
        DBSubnetGroupName='cobalt-production-db-subnets')
    did('rds', 'CreateDBInstanceReadReplica')
    d = r['DBInstance']
    t.eq((d['DBInstanceStatus'], d['ReadReplicaSourceDBInstanceIdentifier'], 'Endpoint' in d),
         ('creating', 'production-blue', False), 'CreateDBInstanceReadReplica answers creating, naming its source')
    try:
        rds.promote_read_replica(DBInstanceIdentifier='cobalt-production-green')
        t.ok(False, 'promotion refused while the replica is being created')
    except botocore.exceptions.ClientError as e:
        did('rds', 'PromoteReadReplica')
        t.eq(e.response['Error']['Code'], 'InvalidDBInstanceState',
             'promotion refused while the replica is being created (%s)' % e.response['Error']['Message'])
    src = rds.describe_db_instances(DBInstanceIdentifier='production-blue')['DBInstances'][0]
    t.eq(src.get('ReadReplicaDBInstanceIdentifiers'), ['cobalt-production-green'], 'the source lists its replica')
    rds.get_waiter('db_instance_available').wait(DBInstanceIdentifier='cobalt-production-green',
                                                 WaiterConfig=FAST_WAIT)
    d = rds.describe_db_instances(DBInstanceIdentifier='cobalt-production-green')['DBInstances'][0]
    t.eq((d['DBInstanceClass'], d['DBName'], d['StatusInfos'][0]['Status'], d['StatusInfos'][0]['Normal']),
         ('db.t3.small', 'ebdb', 'replicating', True), 'an available replica is replicating at its class')
    r = rds.promote_read_replica(DBInstanceIdentifier='cobalt-production-green')
    t.eq((r['DBInstance']['DBInstanceStatus'], r['DBInstance'].get('ReadReplicaSourceDBInstanceIdentifier')),
         ('modifying', 'production-blue'), 'PromoteReadReplica answers modifying, still a replica')
    try:
        rds.promote_read_replica(DBInstanceIdentifier='cobalt-production-green')
        t.ok(False, 'a second promotion is refused')
    except botocore.exceptions.ClientError as e:
        t.eq(e.response['Error']['Code'], 'InvalidDBInstanceState', 'a second promotion is refused')
    rds.get_waiter('db_instance_available').wait(DBInstanceIdentifier='cobalt-production-green',
                                                 WaiterConfig=FAST_WAIT)
    d = rds.describe_db_instances(DBInstanceIdentifier='cobalt-production-green')['DBInstances'][0]
    t.ok('ReadReplicaSourceDBInstanceIdentifier' not in d and 'StatusInfos' not in d and
         d['BackupRetentionPeriod'] > 0, 'after promotion it is a standalone instance with backups', d)
    try:
        rds.promote_read_replica(DBInstanceIdentifier='cobalt-production-green')
        t.ok(False, 'promoting a standalone instance is refused')
    except botocore.exceptions.ClientError as e:
        t.eq(e.response['Error']['Code'], 'InvalidDBInstanceState', 'promoting a standalone instance is refused')
    srv.admin('POST', '/set', {'kind': 'db_instance', 'id': 'production-blue', 'set': {'backup_retention': 0}})
    try:
        rds.create_db_instance_read_replica(DBInstanceIdentifier='replica-2',
                                            SourceDBInstanceIdentifier='production-blue')
        t.ok(False, 'no replica of a source without automated backups')
    except botocore.exceptions.ClientError as e:
        t.ok(e.response['Error']['Code'] == 'InvalidDBInstanceState' and
             'Automated backups are not enabled' in e.response['Error']['Message'],
             'no replica of a source without automated backups (InvalidDBInstanceState)', e.response['Error'])
    srv.admin('POST', '/reset', {})


for fn in (test_eb, test_rds, test_rds_replica, test_route53, test_ec2_sts_eic, test_ssm, test_concurrency):
    t.run(fn, fn.__name__)
import awsproto  # noqa: E402
want = {(s, o) for s, ops in awsproto.OPERATIONS.items() for o in ops}
t.eq(sorted(want - covered), [], 'every implemented operation was exercised')
t.ok(not problems, 'every raw response matches the botocore model strictly', '\n'.join(problems))
srv.stop()
t.done()
