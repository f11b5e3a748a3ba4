#!/usr/bin/python3
# The simulated AWS refuses what AWS refuses, in each protocol's error shape:
# bad signatures and credentials, clock skew, requests that break the botocore
# model, and requests that are well-formed but invalid for the world's state.
import datetime
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fakeaws'))
import testlib as T  # noqa: E402

t = T.Tap()
srv = T.Server(durations=dict(T.FAST, env_update=30))
EB = 'Action=DescribeEnvironments&Version=2010-12-01'


def code_of(resp):
    return resp[0], T.error_code(resp[2])[0]


def test_signatures():
    t.eq(T.raw(srv, 'elasticbeanstalk', EB)[0], 200, 'a correctly signed raw request is accepted')
    t.eq(code_of(T.raw(srv, 'elasticbeanstalk', EB, sign=False)), (403, 'MissingAuthenticationToken'),
         'no Authorization header: MissingAuthenticationToken')
    bad = dict(T.KEY, secret_key='not-the-secret')
    t.eq(code_of(T.raw(srv, 'elasticbeanstalk', EB, cred=bad)), (403, 'SignatureDoesNotMatch'),
         'wrong secret: SignatureDoesNotMatch')

    r = T.raw(srv, 'rds', 'Action=DescribeDBInstances&Version=2014-10-31',
              tamper=lambda h: h.update({'Authorization': h['Authorization'].replace('Signature=', 'Signature=0')}))
    t.eq(code_of(r), (403, 'SignatureDoesNotMatch'), 'altered signature: SignatureDoesNotMatch')
    def one_second_earlier(h):
        fmt = '%Y%m%dT%H%M%SZ'
        h['X-Amz-Date'] = (datetime.datetime.strptime(h['X-Amz-Date'], fmt) -
                           datetime.timedelta(seconds=1)).strftime(fmt)
    r = T.raw(srv, 'rds', 'Action=DescribeDBInstances&Version=2014-10-31', tamper=one_second_earlier)
    t.ok(code_of(r)[1] == 'SignatureDoesNotMatch', 'a changed signed header breaks the signature', r)
    r = T.raw(srv, 'elasticbeanstalk', EB,
              tamper=lambda h: h.update({'Authorization': h['Authorization'].split(', Signature=')[0]}))
    t.eq(code_of(r), (400, 'IncompleteSignature'), 'Authorization without Signature: IncompleteSignature')
    bad_session = dict(T.SESSION, secret_key='not-the-secret')
    t.eq(code_of(T.raw(srv, 'sts', 'Action=GetCallerIdentity&Version=2011-06-15', cred=bad_session)),
         (403, 'SignatureDoesNotMatch'), 'session credentials with a wrong secret: SignatureDoesNotMatch')
    with open(os.path.join(srv.dir, 'log')) as f:
        log = f.read()
    t.ok('x-amz-security-token:<redacted>' in log and T.SESSION['session_token'] not in log,
         "the server's log shows the canonical request without the session token")
    unknown = dict(T.KEY, access_key='AKIANOSUCHKEY0000000')
    t.eq(code_of(T.raw(srv, 'elasticbeanstalk', EB, cred=unknown)), (403, 'InvalidClientTokenId'),
         'unknown access key: InvalidClientTokenId')
    t.eq(code_of(T.raw(srv, 'ec2', 'Action=DescribeInstances&Version=2016-11-15', cred=unknown)),
         (401, 'AuthFailure'), 'unknown access key on EC2: AuthFailure in the EC2 shape')
    t.eq(code_of(T.raw(srv, 'sts', 'Action=GetCallerIdentity&Version=2011-06-15', cred=T.EXPIRED)),
         (403, 'ExpiredToken'), 'expired session credentials: ExpiredToken')
    wrong_token = dict(T.SESSION, session_token='FwoGZXIvYXdzEFAKEwrong')
    t.eq(code_of(T.raw(srv, 'sts', 'Action=GetCallerIdentity&Version=2011-06-15', cred=wrong_token)),
         (403, 'InvalidClientTokenId'), 'wrong session token: InvalidClientTokenId')
    no_token = dict(T.SESSION)
    no_token.pop('session_token')
    t.eq(code_of(T.raw(srv, 'sts', 'Action=GetCallerIdentity&Version=2011-06-15', cred=no_token)),
         (403, 'InvalidClientTokenId'), 'session key without its token: InvalidClientTokenId')
    old = datetime.datetime.utcnow() - datetime.timedelta(minutes=6)
    r = T.raw(srv, 'rds', 'Action=DescribeDBInstances&Version=2014-10-31', when=old)
    t.eq(code_of(r), (403, 'RequestTimeTooSkewed'), 'signed 6 minutes ago: RequestTimeTooSkewed')
    t.ok(b'Signature expired' in r[2], 'the skew message says the signature expired', r[2])
    ok4 = datetime.datetime.utcnow() - datetime.timedelta(minutes=4)
    t.eq(T.raw(srv, 'rds', 'Action=DescribeDBInstances&Version=2014-10-31', when=ok4)[0], 200,
         'signed 4 minutes ago: accepted')
    srv.admin('POST', '/time', {'clock_skew': 600})
    t.eq(code_of(T.raw(srv, 'sts', 'Action=GetCallerIdentity&Version=2011-06-15')), (403, 'RequestTimeTooSkewed'),
         'the admin clock skew makes a current request too skewed')
    srv.admin('POST', '/time', {'clock_skew': 0})
    t.eq(code_of(T.raw(srv, 'elasticbeanstalk', EB, region='us-west-2')), (403, 'SignatureDoesNotMatch'),
         'a regional service signed for another region is refused')
    t.eq(T.raw(srv, 'route53', b'', method='GET', path='/2013-04-01/hostedzonesbyname', region='us-east-1')[0],
         200, 'Route 53 signed for us-east-1 is accepted')
    t.eq(T.raw(srv, 'route53', b'', method='GET', path='/2013-04-01/hostedzonesbyname?dnsname=myabf.com.au&maxitems=1')[0],
         200, 'a signed query string is verified (Route 53 GET with parameters)')
    r = T.raw(srv, 'route53', b'', method='GET',
              path='/2013-04-01/hostedzone/Z0FAKEMYABF00000001/rrset?type=A&name=%2A.myabf.com.au')
    t.eq(r[0], 200, 'an encoded, unsorted query string is canonicalised (sorted, %2A) as AWS does')
    r = T.raw(srv, 'elasticbeanstalk', EB, headers={'X-Amz-Content-SHA256': '0' * 64})
    t.eq(code_of(r), (400, 'XAmzContentSHA256Mismatch'), 'a wrong x-amz-content-sha256 is refused')


def test_validation():
    r = T.raw(srv, 'elasticbeanstalk', EB + '&EnvironmentName.member.1=x')
    t.eq(code_of(r), (400, 'ValidationError'), 'query: unknown parameter refused with ValidationError')
    r = T.raw(srv, 'elasticbeanstalk', 'Action=UpdateEnvironment&Version=2010-12-01&EnvironmentName=cobalt-production-'
              'blue&OptionSettings.member.1.Namespace=aws:autoscaling:asg&OptionSettings.member.1.Value=1')
    t.eq(code_of(r)[1], 'InvalidParameterValue', 'query: an option setting without OptionName is refused')
    r = T.raw(srv, 'elasticbeanstalk', EB + '&MaxRecords=lots')
    t.eq(code_of(r), (400, 'ValidationError'), 'query: a non-integer MaxRecords is refused')
    r = T.raw(srv, 'elasticbeanstalk', EB + '&IncludeDeleted=maybe')
    t.eq(code_of(r), (400, 'ValidationError'), 'query: a non-boolean is refused')
    r = T.raw(srv, 'elasticbeanstalk', 'Action=DescribeConfigurationSettings&Version=2010-12-01')
    t.eq(code_of(r), (400, 'MissingParameter'), 'query: a missing required member gives MissingParameter')
    r = T.raw(srv, 'elasticbeanstalk', 'Action=CreateEnvironment&Version=2010-12-01&ApplicationName=cobalt&'
              'EnvironmentName=abc')
    code, msg = T.error_code(r[2])
    t.ok(code == 'ValidationError' and 'length greater than or equal to 4' in msg,
         'query: a 3-character environment name breaks the model minimum', (code, msg))
    r = T.raw(srv, 'elasticbeanstalk', 'Action=DescribeEvents&Version=2010-12-01&Severity=LOUD')
    t.eq(code_of(r)[1], 'ValidationError', 'query: a value outside the enum is refused')
    r = T.raw(srv, 'elasticbeanstalk', 'Action=DescribeEnvironments')
    t.eq(code_of(r), (400, 'MissingParameter'), 'query: no Version is refused')
    r = T.raw(srv, 'elasticbeanstalk', 'Action=DescribeEnvironments&Version=2009-01-01')
    t.eq(code_of(r)[1], 'NoSuchVersion', 'query: an unknown Version is refused')
    r = T.raw(srv, 'elasticbeanstalk', 'Action=DescribeEnvironmentz&Version=2010-12-01')
    t.eq(code_of(r), (400, 'InvalidAction'), 'query: an unknown Action gives InvalidAction')
    r = T.raw(srv, 'rds', 'Action=DescribeDBInstances&Version=2014-10-31&Filters.member.1.Name=db-instance-id')
    t.eq(code_of(r)[1], 'ValidationError', 'RDS: lists use the member element name (Filters.Filter.N), not member')
    r = T.raw(srv, 'rds', 'Action=DescribeDBInstances&Version=2014-10-31&Filters.Filter.1.Name=db-instance-id&'
              'Filters.Filter.1.Values.Value.1=production-blue')
    root = ET.fromstring(r[2])
    ids = [e.text for e in root.iter() if e.tag.endswith('DBInstanceIdentifier')]
    t.eq((r[0], ids), (200, ['production-blue']), 'RDS: Filters.Filter.1.Values.Value.1 is understood')
    r = T.raw(srv, 'ec2', 'Action=DescribeInstances&Version=2016-11-15&InstanceIds.1=i-0b1e0000000000001')
    t.eq(code_of(r), (400, 'UnknownParameter'), 'EC2: a misnamed list (InstanceIds.1) gives UnknownParameter')
    r = T.raw(srv, 'ec2', 'Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0b1e0000000000001')
    t.eq(r[0], 200, 'EC2: InstanceId.1 is the flat list name')
    r = T.raw(srv, 'ec2', 'Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&GroupId=sg-0eb1e5eb00000001a&'
              'IpProtocol=tcp&FromPort=twenty-two&ToPort=22&CidrIp=10.0.0.1/32')
    t.eq(code_of(r), (400, 'InvalidParameterValue'), 'EC2: a non-integer port gives InvalidParameterValue')
    r = T.raw(srv, 'ec2', 'Action=DescribeInstances&Version=2016-11-15',
              tamper=lambda h: None)
    t.ok(r[2].lstrip().startswith(b'<?xml') and b'<DescribeInstancesResponse' in r[2], 'EC2 success shape')
    r = T.raw(srv, 'ec2', 'Action=DescribeInstances&Version=2016-11-15&Bogus=1')
    root = ET.fromstring(r[2])
    t.eq([c.tag for c in root], ['Errors', 'RequestID'], 'EC2 errors come as Response/Errors/Error + RequestID')
    r = T.raw(srv, 'route53', b'', method='GET', path='/2013-04-01/hostedzone/Z0FAKEMYABF00000001/rrset?maxitems=x')
    t.eq(code_of(r), (400, 'InvalidInput'), 'Route 53: a bad maxitems gives InvalidInput')
    r = T.raw(srv, 'route53', b'', method='GET', path='/2013-04-01/hostedzone/Z0FAKEMYABF00000001/rrset?type=A')
    t.eq(code_of(r), (400, 'InvalidInput'), 'Route 53: type without name gives InvalidInput')
    body = ('<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.'
            'amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes><Change><Action>UPSERT</Action>'
            '<ResourceRecordSet><Name>x.myabf.com.au.</Name><Type>A</Type><TTL>60</TTL><ResourceRecords>'
            '<ResourceRecord><Valu>1.2.3.4</Valu></ResourceRecord></ResourceRecords></ResourceRecordSet>'
            '</Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>')
    r = T.raw(srv, 'route53', body, path='/2013-04-01/hostedzone/Z0FAKEMYABF00000001/rrset/', content_type=None)
    t.eq(code_of(r), (400, 'InvalidInput'), 'Route 53: an unknown XML element gives InvalidInput')
    r = T.raw(srv, 'route53', body.replace('<Valu>1.2.3.4</Valu>', '').replace('UPSERT', 'RENAME'),
              path='/2013-04-01/hostedzone/Z0FAKEMYABF00000001/rrset/', content_type=None)
    code, msg = T.error_code(r[2])
    t.ok(code == 'InvalidInput' and 'enum' in msg and 'Member must not be null' in msg,
         'Route 53: a bad Action and a missing Value are both reported', (code, msg))
    r = T.raw(srv, 'route53', '<ChangeResourceRecordSetsRequest><oops', path='/2013-04-01/hostedzone/'
              'Z0FAKEMYABF00000001/rrset/', content_type=None)
    t.eq(code_of(r), (400, 'MalformedXML'), 'Route 53: malformed XML is refused')
    r = T.raw(srv, 'ec2-instance-connect', '{"InstanceId": "i-0b1e0000000000001"}',
              headers={'X-Amz-Target': 'AWSEC2InstanceConnectService.SendSSHPublicKey'},
              content_type='application/x-amz-json-1.1')
    code, msg = T.error_code(r[2])
    t.ok(r[0] == 400 and code == 'ValidationException' and 'instanceOSUser' in msg,
         'JSON: missing members give ValidationException', (r[0], code, msg))
    r = T.raw(srv, 'ec2-instance-connect', '{"InstanceId": 5}',
              headers={'X-Amz-Target': 'AWSEC2InstanceConnectService.SendSSHPublicKey'},
              content_type='application/x-amz-json-1.1')
    t.eq(code_of(r)[1], 'SerializationException', 'JSON: a number where a string belongs is refused')


def test_state_errors():
    eb = T.client(srv, 'elasticbeanstalk')
    rds = T.client(srv, 'rds')
    r53 = T.client(srv, 'route53')
    ec2 = T.client(srv, 'ec2')
    eic = T.client(srv, 'ec2-instance-connect')
    eb.update_environment(EnvironmentName='cobalt-production-green', OptionSettings=[
        {'Namespace': 'aws:elasticbeanstalk:application:environment', 'OptionName': 'X', 'Value': '1'}])
    t.error(lambda: eb.update_environment(EnvironmentName='cobalt-production-green', OptionSettings=[
        {'Namespace': 'aws:elasticbeanstalk:application:environment', 'OptionName': 'X', 'Value': '2'}]),
        'InvalidParameterValue', 'UpdateEnvironment while Updating: InvalidParameterValue (Must be Ready)')
    t.error(lambda: eb.update_environment(EnvironmentName='cobalt-production-nope'), 'InvalidParameterValue',
            'UpdateEnvironment of an unknown environment: InvalidParameterValue')
    t.error(lambda: eb.update_environment(EnvironmentName='cobalt-production-blue', OptionSettings=[
        {'Namespace': 'aws:autoscaling:asg', 'OptionName': 'MinSise', 'Value': '1'}]),
        'ConfigurationValidationException', 'an unknown option is refused')
    t.error(lambda: eb.update_environment(EnvironmentName='cobalt-production-blue', OptionSettings=[
        {'Namespace': 'aws:autoscaling:asg', 'OptionName': 'MinSize', 'Value': '5'}]),
        'ConfigurationValidationException', 'MinSize above MaxSize is refused')
    t.error(lambda: eb.update_environment(EnvironmentName='cobalt-production-blue', VersionLabel='nope'),
            'InvalidParameterValue', 'an unknown version label is refused')
    t.error(lambda: eb.create_environment(ApplicationName='cobalt', EnvironmentName='cobalt-production-blue',
                                          SolutionStackName='x'), 'InvalidParameterValue',
            'CreateEnvironment with a taken name is refused')
    t.error(lambda: eb.create_environment(ApplicationName='cobalt', EnvironmentName='cobalt-other',
                                          CNAMEPrefix='cobalt-production-blue', SolutionStackName='x'),
            'InvalidParameterValue', 'CreateEnvironment with a taken CNAME is refused')
    t.error(lambda: eb.describe_configuration_settings(ApplicationName='nope', EnvironmentName='xxxx'),
            'InvalidParameterValue', 'an unknown application is refused')
    t.error(lambda: rds.describe_db_instances(DBInstanceIdentifier='nope'), 'DBInstanceNotFound',
            'DescribeDBInstances of an unknown id: DBInstanceNotFound 404', status=404)
    t.error(lambda: rds.create_db_snapshot(DBSnapshotIdentifier='production-blue-before-6-0',
                                           DBInstanceIdentifier='production-blue'),
            'DBSnapshotAlreadyExists', 'a snapshot name in use: DBSnapshotAlreadyExists')
    t.error(lambda: rds.create_db_snapshot(DBSnapshotIdentifier='bad--name', DBInstanceIdentifier='production-blue'),
            'InvalidParameterValue', 'a snapshot name with two hyphens is refused')
    t.error(lambda: rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier='cobalt-test',
                                                             DBSnapshotIdentifier='production-blue-before-6-0'),
            'DBInstanceAlreadyExists', 'restoring onto a taken name: DBInstanceAlreadyExists')
    t.error(lambda: rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier='x1',
                                                             DBSnapshotIdentifier='nope'),
            'DBSnapshotNotFound', 'restoring an unknown snapshot: DBSnapshotNotFound', status=404)
    t.error(lambda: rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier='x1',
                                                             DBSnapshotIdentifier='production-blue-before-6-0',
                                                             DBInstanceClass='db.t3.gigantic'),
            'InvalidParameterCombination', 'an unknown instance class is refused')
    t.error(lambda: rds.delete_db_instance(DBInstanceIdentifier='cobalt-test'), 'InvalidParameterCombination',
            'DeleteDBInstance without a final snapshot or SkipFinalSnapshot is refused')
    rds.create_db_snapshot(DBSnapshotIdentifier='busy-1', DBInstanceIdentifier='cobalt-test')
    t.error(lambda: rds.create_db_snapshot(DBSnapshotIdentifier='busy-2', DBInstanceIdentifier='cobalt-test'),
            'InvalidDBInstanceState', 'a second snapshot while backing-up: InvalidDBInstanceState')
    zid = 'Z0FAKEMYABF00000001'
    eb_alias = {'HostedZoneId': 'Z2PCDNR3VC2G1N', 'EvaluateTargetHealth': False,
                'DNSName': 'cobalt-production-green.ap-southeast-2.elasticbeanstalk.com.'}
    t.error(lambda: r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={'Changes': [
        {'Action': 'DELETE', 'ResourceRecordSet': {'Name': 'myabf.com.au.', 'Type': 'A', 'AliasTarget': eb_alias}}]}),
        'InvalidChangeBatch', 'DELETE not matching the current values: InvalidChangeBatch')
    t.error(lambda: r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={'Changes': [
        {'Action': 'CREATE', 'ResourceRecordSet': {'Name': 'myabf.com.au.', 'Type': 'A', 'AliasTarget': eb_alias}}]}),
        'InvalidChangeBatch', 'CREATE of an existing record: InvalidChangeBatch')
    t.error(lambda: r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={'Changes': [
        {'Action': 'UPSERT', 'ResourceRecordSet': {'Name': 'myabf.com.au.', 'Type': 'A', 'TTL': 60,
                                                   'AliasTarget': eb_alias}}]}),
        'InvalidInput', 'an alias with a TTL: InvalidInput')
    t.error(lambda: r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={'Changes': [
        {'Action': 'UPSERT', 'ResourceRecordSet': {'Name': 'myabf.com.au.', 'Type': 'A', 'AliasTarget': dict(
            eb_alias, DNSName='cobalt-nowhere.ap-southeast-2.elasticbeanstalk.com.')}}]}),
        'InvalidChangeBatch', 'an alias to no environment: InvalidChangeBatch')
    t.error(lambda: r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={'Changes': [
        {'Action': 'UPSERT', 'ResourceRecordSet': {'Name': 'myabf.com.au.', 'Type': 'CNAME', 'TTL': 60,
                                                   'ResourceRecords': [{'Value': 'x.example.com'}]}}]}),
        'InvalidChangeBatch', 'a CNAME at the apex: InvalidChangeBatch')
    before = srv.state()['zones'][0]['records']
    status, _, body = T.raw(srv, 'route53', (
        '<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch>'
        '<Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>www.myabf.com.au.</Name><Type>A</Type>'
        '<AliasTarget><HostedZoneId>Z2PCDNR3VC2G1N</HostedZoneId><DNSName>cobalt-production-green.ap-southeast-2.'
        'elasticbeanstalk.com.</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget>'
        '</ResourceRecordSet></Change><Change><Action>DELETE</Action><ResourceRecordSet><Name>gone.myabf.com.au.'
        '</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>1.2.3.4</Value>'
        '</ResourceRecord></ResourceRecords></ResourceRecordSet></Change><Change><Action>CREATE</Action>'
        '<ResourceRecordSet><Name>other.example.org.</Name><Type>A</Type><TTL>60</TTL><ResourceRecords>'
        '<ResourceRecord><Value>1.2.3.4</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>'
        '</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>'),
        path='/2013-04-01/hostedzone/%s/rrset/' % zid, content_type=None)
    code, msgs = T.error_code(body)
    t.ok(status == 400 and code == 'InvalidChangeBatch(legacy)' and len(msgs) == 2,
         'several problems in a batch come in the legacy <InvalidChangeBatch><Messages> form', (status, body))
    t.eq(srv.state()['zones'][0]['records'], before, 'a refused batch changes nothing (all or nothing)')
    srv.admin('POST', '/options', {'route53_legacy_errors': True})
    status, _, body = T.raw(srv, 'route53', (
        '<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch>'
        '<Changes><Change><Action>DELETE</Action><ResourceRecordSet><Name>gone.myabf.com.au.</Name><Type>A</Type>'
        '<TTL>60</TTL><ResourceRecords><ResourceRecord><Value>1.2.3.4</Value></ResourceRecord></ResourceRecords>'
        '</ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>'),
        path='/2013-04-01/hostedzone/%s/rrset/' % zid, content_type=None)
    t.eq(T.error_code(body)[0], 'InvalidChangeBatch(legacy)', 'route53_legacy_errors forces the legacy form')
    srv.admin('POST', '/options', {'route53_legacy_errors': False})
    t.error(lambda: r53.list_resource_record_sets(HostedZoneId='ZNOSUCHZONE'), 'NoSuchHostedZone',
            'an unknown zone: NoSuchHostedZone 404', status=404)
    t.error(lambda: r53.get_change(Id='/change/CNOSUCH'), 'NoSuchChange', 'an unknown change: NoSuchChange 404',
            status=404)
    ec2.authorize_security_group_ingress(GroupId='sg-0eb1e5eb00000001a', IpProtocol='tcp', FromPort=22,
                                         ToPort=22, CidrIp='198.51.100.9/32')
    t.error(lambda: ec2.authorize_security_group_ingress(GroupId='sg-0eb1e5eb00000001a', IpProtocol='tcp',
                                                         FromPort=22, ToPort=22, CidrIp='198.51.100.9/32'),
            'InvalidPermission.Duplicate', 'opening an open port: InvalidPermission.Duplicate')
    t.error(lambda: ec2.revoke_security_group_ingress(GroupId='sg-0eb1e5eb00000001a', IpProtocol='tcp',
                                                      FromPort=22, ToPort=22, CidrIp='198.51.100.10/32'),
            'InvalidPermission.NotFound', 'closing a rule that is not there: InvalidPermission.NotFound')
    t.error(lambda: ec2.authorize_security_group_ingress(GroupId='sg-0eb1e5eb00000001a', IpProtocol='tcp',
                                                         FromPort=22, ToPort=22, CidrIp='198.51.100.300/32'),
            'InvalidParameterValue', 'a malformed CIDR: InvalidParameterValue')
    t.error(lambda: ec2.describe_instances(InstanceIds=['i-0123456789abcdef0']), 'InvalidInstanceID.NotFound',
            'an unknown instance: InvalidInstanceID.NotFound')
    t.error(lambda: ec2.describe_security_groups(GroupIds=['sg-0123456789abcdef0']), 'InvalidGroup.NotFound',
            'an unknown group: InvalidGroup.NotFound')
    t.error(lambda: eic.send_ssh_public_key(InstanceId='i-0123456789abcdef0', InstanceOSUser='ec2-user',
                                            SSHPublicKey='ssh-ed25519 ' + 'A' * 80), 'EC2InstanceNotFoundException',
            'Instance Connect to an unknown instance: EC2InstanceNotFoundException')
    t.error(lambda: eic.send_ssh_public_key(InstanceId='i-0b1e0000000000001', InstanceOSUser='ec2-user',
                                            SSHPublicKey='ssh-dss AAAAB3NzaC1kc3MAAACBAP' + 'A' * 80), 'InvalidArgsException',
            'Instance Connect with a DSA key: InvalidArgsException')


for fn in (test_signatures, test_validation, test_state_errors):
    t.run(fn, fn.__name__)
srv.stop()
t.done()
