"""OBS access control between accounts (issue 15 §1): a bucket is its creator's account's;
another account gets OBS's AccessDenied unless the bucket's policy or an ACL grants it; the
read-only auditor writes nothing; a data tracker watches only its own account's buckets."""

from __future__ import annotations

import json

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from simulator.obs import access
from simulator.server import start_in_thread
from simulator.settings import Settings
from tests.helpers import DOMAIN, GLOBEX_PROJECT_ID, USERS, server_call

GLOBEX = USERS["mallory"]["domain"]["id"]


@pytest.fixture(scope="module")
def server():
    running = start_in_thread(Settings(port=0, seed=15))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def fresh(server):
    server.sim.reset()


def s3(server, user="admin"):
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=USERS[user]["ak"],
                        aws_secret_access_key=USERS[user]["sk"],
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))


def refused(call, code="AccessDenied", status=403) -> dict:
    """The error OBS answered a refused call with (boto3's reading of the XML body)."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    assert error.get("Code", str(status)) == code or error["Code"] == str(status)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    return error


@pytest.fixture
def acme(server):
    """acme's bucket with one object, made through OBS by acme's admin."""
    client = s3(server)
    client.create_bucket(Bucket="acme-data")
    client.put_object(Bucket="acme-data", Key="in/a.txt", Body=b"secret")
    return client


def test_another_account_gets_access_denied_for_everything_on_a_private_bucket(server, acme):
    globex = s3(server, "mallory")
    calls = {
        "get": lambda: globex.get_object(Bucket="acme-data", Key="in/a.txt"),
        "put": lambda: globex.put_object(Bucket="acme-data", Key="in/b.txt", Body=b"x"),
        "overwrite": lambda: globex.put_object(Bucket="acme-data", Key="in/a.txt", Body=b"x"),
        "delete": lambda: globex.delete_object(Bucket="acme-data", Key="in/a.txt"),
        "batch delete": lambda: globex.delete_objects(
            Bucket="acme-data", Delete={"Objects": [{"Key": "in/a.txt"}]}),
        "list": lambda: globex.list_objects_v2(Bucket="acme-data"),
        "acl": lambda: globex.get_bucket_acl(Bucket="acme-data"),
        "object acl": lambda: globex.put_object_acl(Bucket="acme-data", Key="in/a.txt",
                                                    ACL="public-read"),
        "policy": lambda: globex.put_bucket_policy(Bucket="acme-data", Policy=json.dumps(
            {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
                            "Resource": "acme-data/*"}]})),
        "delete bucket": lambda: globex.delete_bucket(Bucket="acme-data"),
        "multipart": lambda: globex.create_multipart_upload(Bucket="acme-data", Key="big"),
        "copy out": lambda: globex.copy_object(
            Bucket="globex-own", Key="stolen", CopySource="acme-data/in/a.txt"),
    }
    globex.create_bucket(Bucket="globex-own")
    for name, call in calls.items():
        error = refused(call)
        assert error["Message"] == "Access Denied", name
    with pytest.raises(ClientError) as caught:
        globex.head_bucket(Bucket="acme-data")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # nothing changed, and the XML body is OBS's, with the request id headers
    assert acme.get_object(Bucket="acme-data", Key="in/a.txt")["Body"].read() == b"secret"
    assert [o["Key"] for o in acme.list_objects_v2(Bucket="acme-data")["Contents"]] == \
        ["in/a.txt"]
    assert globex.list_objects_v2(Bucket="globex-own").get("Contents") is None
    raw = requests.get(server.endpoint + "/acme-data/in/a.txt", timeout=30)
    assert raw.status_code == 403  # unsigned: refused before any owner check


def test_the_refusal_is_obs_xml_with_its_request_id(server, acme):
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    request = AWSRequest("GET", server.endpoint + "/acme-data/in/a.txt")
    request.context["timestamp"] = None
    S3SigV4Auth(Credentials(USERS["mallory"]["ak"], USERS["mallory"]["sk"]), "s3",
                "us-east-1").add_auth(request)
    answer = requests.get(request.url, headers=dict(request.headers), timeout=30)
    request_id = answer.headers["x-obs-request-id"]
    assert answer.status_code == 403
    assert answer.headers["Content-Type"] == "application/xml"
    assert answer.text == ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied'
                           '</Code><Message>Access Denied</Message><RequestId>%s</RequestId>'
                           '<HostId>%s</HostId></Error>' % (request_id, request_id))


def test_each_account_lists_only_its_own_buckets_and_names_stay_global(server, acme):
    globex = s3(server, "mallory")
    globex.create_bucket(Bucket="globex-own")
    assert [b["Name"] for b in acme.list_buckets()["Buckets"]] == ["acme-data"]
    listed = globex.list_buckets()
    assert [b["Name"] for b in listed["Buckets"]] == ["globex-own"]
    assert listed["Owner"]["ID"] == GLOBEX
    # a name another account holds cannot be taken
    refused(lambda: globex.create_bucket(Bucket="acme-data"), "BucketAlreadyExists", 409)
    assert access.bucket_owner(server.sim, "acme-data") == DOMAIN["id"]
    assert access.bucket_owner(server.sim, "globex-own") == GLOBEX


def test_an_acl_names_the_owners_domain_and_grants_another_account(server, acme):
    globex = s3(server, "mallory")
    acl = acme.get_bucket_acl(Bucket="acme-data")
    assert acl["Owner"]["ID"] == DOMAIN["id"]
    assert [(g["Grantee"].get("ID"), g["Permission"]) for g in acl["Grants"]] == \
        [(DOMAIN["id"], "FULL_CONTROL")]
    acme.put_object_acl(Bucket="acme-data", Key="in/a.txt", GrantRead="id=%s" % GLOBEX)
    assert globex.get_object(Bucket="acme-data", Key="in/a.txt")["Body"].read() == b"secret"
    refused(lambda: globex.list_objects_v2(Bucket="acme-data"))  # object READ is not bucket
    refused(lambda: globex.put_object(Bucket="acme-data", Key="in/b.txt", Body=b"x"))
    acme.put_bucket_acl(Bucket="acme-data", GrantWrite="id=%s" % GLOBEX,
                        GrantFullControl="id=%s" % DOMAIN["id"])
    globex.put_object(Bucket="acme-data", Key="in/b.txt", Body=b"from globex")
    refused(lambda: globex.list_objects_v2(Bucket="acme-data"))
    refused(lambda: globex.get_object(Bucket="acme-data", Key="in/b.txt"))  # its own ACL
    assert acme.get_object(Bucket="acme-data", Key="in/b.txt")["Body"].read() == b"from globex"


def test_a_public_read_object_is_read_by_anyone_and_written_by_no_one():
    running = start_in_thread(Settings(port=0, auth="lenient"))
    try:
        client = s3(running)
        client.create_bucket(Bucket="site")
        client.put_object(Bucket="site", Key="index.html", Body=b"<p>hi</p>", ACL="public-read")
        client.put_object(Bucket="site", Key="private.txt", Body=b"no")
        assert requests.get(running.endpoint + "/site/index.html", timeout=30).content == \
            b"<p>hi</p>"
        assert s3(running, "mallory").get_object(
            Bucket="site", Key="index.html")["Body"].read() == b"<p>hi</p>"
        for method, path in (("GET", "/site/private.txt"), ("PUT", "/site/new.txt"),
                             ("DELETE", "/site/index.html"), ("GET", "/site"), ("GET", "/")):
            answer = requests.request(method, running.endpoint + path, data=b"x", timeout=30)
            assert answer.status_code == 403, (method, path)
            assert b"<Code>AccessDenied</Code>" in answer.content
        assert client.get_object(Bucket="site", Key="index.html")["Body"].read() == b"<p>hi</p>"
    finally:
        running.stop()


@pytest.mark.parametrize("principal", [
    {"ID": ["domain/%s:user/*" % GLOBEX]},
    {"ID": ["domain/%s:user/mallory" % GLOBEX]},
    {"ID": ["domain/%s:user/%s" % (GLOBEX, USERS["mallory"]["id"])]},
    {"AWS": ["arn:aws:iam::%s:root" % GLOBEX]},
    {"AWS": GLOBEX},
], ids=["obs-domain", "obs-user-name", "obs-user-id", "s3-root-arn", "s3-account"])
def test_a_bucket_policy_grants_what_it_names_to_whom_it_names(server, acme, principal):
    acme.put_object(Bucket="acme-data", Key="shared/b.txt", Body=b"shared")
    acme.put_bucket_policy(Bucket="acme-data", Policy=json.dumps({"Statement": [
        {"Sid": "read-shared", "Effect": "Allow", "Principal": principal,
         "Action": ["GetObject", "s3:ListBucket"],
         "Resource": ["acme-data/shared/*", "arn:aws:s3:::acme-data"]}]}))
    globex = s3(server, "mallory")
    assert globex.get_object(Bucket="acme-data", Key="shared/b.txt")["Body"].read() == b"shared"
    assert [o["Key"] for o in globex.list_objects_v2(Bucket="acme-data")["Contents"]] == \
        ["in/a.txt", "shared/b.txt"]
    refused(lambda: globex.get_object(Bucket="acme-data", Key="in/a.txt"))
    refused(lambda: globex.put_object(Bucket="acme-data", Key="shared/c.txt", Body=b"x"))
    refused(lambda: globex.get_bucket_policy(Bucket="acme-data"))


def test_a_policy_deny_binds_the_owner_but_not_its_hold_on_the_policy(server, acme):
    developer = s3(server, "developer")
    acme.put_bucket_policy(Bucket="acme-data", Policy=json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "GetObject", "Resource": "acme-data/*"},
        {"Effect": "Deny", "Principal": {"ID": ["domain/%s:user/developer" % DOMAIN["id"]]},
         "Action": ["DeleteObject", "PutObject"], "Resource": "acme-data/in/*"},
        {"Effect": "Allow", "Principal": {"ID": ["domain/%s:user/*" % GLOBEX]},
         "Action": "PutObject", "Resource": "acme-data/drop/*",
         "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}))
    refused(lambda: developer.delete_object(Bucket="acme-data", Key="in/a.txt"))
    developer.put_object(Bucket="acme-data", Key="out/a.txt", Body=b"ok")  # outside the Deny
    acme.delete_object(Bucket="acme-data", Key="in/a.txt")  # the admin is not named
    globex = s3(server, "mallory")
    refused(lambda: globex.put_object(Bucket="acme-data", Key="drop/x", Body=b"x"))  # Condition
    acme.put_bucket_policy(Bucket="acme-data", Policy=json.dumps({"Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "*",
         "Resource": ["acme-data", "acme-data/*"]}]}))
    refused(lambda: acme.list_objects_v2(Bucket="acme-data"))
    acme.delete_bucket_policy(Bucket="acme-data")  # the owner mends what locked it out
    assert acme.list_objects_v2(Bucket="acme-data")["KeyCount"] == 1


def test_policy_patterns_are_wildcards_not_regular_expressions(server, acme):
    acme.put_object(Bucket="acme-data", Key="a(1).txt", Body=b"x")
    acme.put_bucket_policy(Bucket="acme-data", Policy=json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "Get?bject",
         "Resource": ["acme-data/a(1).txt", "acme-data/in/.*"]}]}))
    globex = s3(server, "mallory")
    assert globex.get_object(Bucket="acme-data", Key="a(1).txt")["Body"].read() == b"x"
    refused(lambda: globex.get_object(Bucket="acme-data", Key="in/a.txt"))


def test_the_auditor_reads_its_accounts_objects_and_writes_nothing(server, acme):
    auditor = s3(server, "auditor")
    assert auditor.get_object(Bucket="acme-data", Key="in/a.txt")["Body"].read() == b"secret"
    assert auditor.list_objects_v2(Bucket="acme-data")["KeyCount"] == 1
    for call in (lambda: auditor.put_object(Bucket="acme-data", Key="x", Body=b"x"),
                 lambda: auditor.delete_object(Bucket="acme-data", Key="in/a.txt"),
                 lambda: auditor.create_bucket(Bucket="auditor-own"),
                 lambda: auditor.put_bucket_acl(Bucket="acme-data", ACL="public-read"),
                 lambda: auditor.delete_bucket(Bucket="acme-data")):
        refused(call)
    assert not server.sim.obs_files.has_bucket("auditor-own")
    assert acme.list_objects_v2(Bucket="acme-data")["KeyCount"] == 1


def globex_tracker(server, bucket: str, **more):
    return server_call(server, "POST", "/v3/%s/tracker" % GLOBEX_PROJECT_ID, {
        "tracker_type": "data", "tracker_name": "spy",
        "data_bucket": {"data_bucket_name": bucket, "data_event": ["READ", "WRITE"]}, **more},
        user="mallory")


def test_a_data_tracker_watches_only_its_own_accounts_buckets(server, acme):
    answer = globex_tracker(server, "acme-data")
    assert answer.status_code == 400
    assert answer.json() == {"error_code": "CTS.0211",
                             "error_msg": "The tracked OBS bucket acme-data does not exist."}
    s3(server, "mallory").create_bucket(Bucket="globex-own")
    answer = globex_tracker(server, "globex-own", obs_info={"bucket_name": "acme-data",
                                                            "file_prefix_name": "x"})
    assert answer.status_code == 400 and answer.json()["error_code"] == "CTS.0211"
    checked = server_call(server, "POST", "/v3/%s/checkbucket" % GLOBEX, {
        "buckets": [{"bucket_name": "acme-data", "bucket_location": "cn-north-4"},
                    {"bucket_name": "globex-own", "bucket_location": "cn-north-4"},
                    {"bucket_name": "nobody", "bucket_location": "cn-north-4"}]},
        user="mallory")
    assert checked.status_code == 200, checked.text
    assert [b["check_bucket_response"] for b in checked.json()["buckets"]] == [
        {"success": False, "response_code": 403, "error_code": "AccessDenied",
         "error_message": "Access Denied"},
        {"success": True, "response_code": 200, "error_code": None, "error_message": None},
        {"success": False, "response_code": 404, "error_code": "NoSuchBucket",
         "error_message": "The specified bucket does not exist"}]
    assert globex_tracker(server, "globex-own").status_code == 201


def test_a_refused_write_is_in_the_owners_data_trace_and_no_one_elses(server, acme):
    made = server_call(server, "POST", "/v3/{project_id}/tracker", {
        "tracker_type": "data", "tracker_name": "watch",
        "data_bucket": {"data_bucket_name": "acme-data", "data_event": ["WRITE"]}})
    assert made.status_code == 201, made.text
    refused(lambda: s3(server, "mallory").put_object(Bucket="acme-data", Key="x", Body=b"x"))
    traces = server_call(server, "GET", "/v3/{project_id}/traces",
                         query="trace_type=data&tracker_name=watch").json()["traces"]
    assert [(t["trace_name"], t["code"], t["trace_rating"], t["user"]["name"],
             t["user"]["domain"]["id"]) for t in traces] == \
        [("putObject", "403", "warning", "mallory", GLOBEX)]


def test_a_bucket_taken_again_by_another_account_leaves_the_old_trackers(server, acme):
    made = server_call(server, "POST", "/v3/{project_id}/tracker", {
        "tracker_type": "data", "tracker_name": "watch",
        "data_bucket": {"data_bucket_name": "acme-data", "data_event": ["WRITE"]}})
    assert made.status_code == 201, made.text
    acme.delete_object(Bucket="acme-data", Key="in/a.txt")
    acme.delete_bucket(Bucket="acme-data")
    globex = s3(server, "mallory")
    globex.create_bucket(Bucket="acme-data")
    globex.put_object(Bucket="acme-data", Key="theirs", Body=b"x")
    traces = server_call(server, "GET", "/v3/{project_id}/traces",
                         query="trace_type=data&tracker_name=watch").json()["traces"]
    assert [t["trace_name"] for t in traces] == ["deleteObject"]  # acme's own, before


def test_owners_policies_and_acls_survive_a_restart(tmp_path):
    settings = Settings(port=0, data_dir=str(tmp_path / "data"))
    running = start_in_thread(settings)
    try:
        s3(running, "mallory").create_bucket(Bucket="globex-own")
        client = s3(running)
        client.create_bucket(Bucket="acme-data")
        client.put_object(Bucket="acme-data", Key="shared.txt", Body=b"x",
                          GrantRead="id=%s" % GLOBEX)
        client.put_bucket_policy(Bucket="acme-data", Policy=json.dumps({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "ListBucket",
             "Resource": "acme-data"}]}))
    finally:
        running.stop()
    running = start_in_thread(Settings(port=0, data_dir=str(tmp_path / "data")))
    try:
        globex = s3(running, "mallory")
        assert [b["Name"] for b in globex.list_buckets()["Buckets"]] == ["globex-own"]
        assert globex.get_object(Bucket="acme-data", Key="shared.txt")["Body"].read() == b"x"
        assert globex.list_objects_v2(Bucket="acme-data")["KeyCount"] == 1
        refused(lambda: globex.put_object(Bucket="acme-data", Key="y", Body=b"y"))
    finally:
        running.stop()


# -- what a second reading found: each a way around the rules above -------------------------

def signed(server, method: str, path: str, user="mallory", body=b"", headers=None):
    """A V4-signed raw request (for what boto3 will not send as such)."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    request = AWSRequest(method, server.endpoint + path, data=body, headers=headers or {})
    S3SigV4Auth(Credentials(USERS[user]["ak"], USERS[user]["sk"]), "s3",
                "us-east-1").add_auth(request)
    prepared = request.prepare()
    sent = requests.Request(method, prepared.url, headers=dict(prepared.headers),
                            data=body).prepare()
    sent.url = prepared.url  # the path exactly as signed, encodings and all
    return requests.Session().send(sent, timeout=30)


def test_a_create_with_any_parameter_cannot_take_another_accounts_bucket(server, acme):
    answer = signed(server, "PUT", "/acme-data?x=1", headers={"x-amz-acl": "public-read-write"})
    assert answer.status_code == 409 and b"<Code>BucketAlreadyExists</Code>" in answer.content
    refused(lambda: s3(server, "mallory").list_objects_v2(Bucket="acme-data"))


@pytest.mark.parametrize("source", ["http://x/acme-data/in/a.txt",
                                    "s3://acme-data//acme-data/in/a.txt",
                                    "/acme-data/in/a.txt?versionId=null"])
def test_a_copy_source_is_read_as_moto_reads_it(server, acme, source):
    s3(server, "mallory").create_bucket(Bucket="globex-own")
    answer = signed(server, "PUT", "/globex-own/stolen", headers={"x-amz-copy-source": source})
    assert answer.status_code == 403, answer.text
    assert server.sim.obs_files.read("/globex-own/stolen", 1 << 20) is None


@pytest.mark.parametrize("key", ["<Key >in/a.txt</Key >", "<Key>&#105;n/a.txt</Key>",
                                 "<Key><![CDATA[in/a.txt]]></Key>"])
def test_a_batch_delete_is_checked_on_the_keys_moto_will_delete(server, acme, key):
    acme.put_object(Bucket="acme-data", Key="tmp/x", Body=b"x")
    acme.put_bucket_policy(Bucket="acme-data", Policy=json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"ID": ["domain/%s:user/*" % GLOBEX]},
         "Action": "DeleteObject", "Resource": "acme-data/tmp/*"}]}))
    body = ("<Delete><Object><Key>tmp/x</Key></Object><Object>%s</Object></Delete>"
            % key).encode()
    answer = signed(server, "POST", "/acme-data?delete", body=body)
    assert answer.status_code == 403, answer.text
    assert sorted(o["Key"] for o in acme.list_objects_v2(Bucket="acme-data")["Contents"]) == \
        ["in/a.txt", "tmp/x"]
    malformed = signed(server, "POST", "/acme-data?delete", body=b"<Delete><Object><Key>")
    assert malformed.status_code == 400 and b"<Code>MalformedXML</Code>" in malformed.content


def test_a_version_is_read_under_its_own_acl(server, acme):
    acme.put_bucket_versioning(Bucket="acme-data", VersioningConfiguration={"Status": "Enabled"})
    first = acme.put_object(Bucket="acme-data", Key="r.txt", Body=b"draft")["VersionId"]
    acme.put_object(Bucket="acme-data", Key="r.txt", Body=b"final", ACL="public-read")
    globex = s3(server, "mallory")
    assert globex.get_object(Bucket="acme-data", Key="r.txt")["Body"].read() == b"final"
    refused(lambda: globex.get_object(Bucket="acme-data", Key="r.txt", VersionId=first))


def test_every_subresource_a_request_names_must_be_granted(server, acme):
    acme.put_bucket_acl(Bucket="acme-data", GrantReadACP="id=%s" % GLOBEX,
                        GrantWriteACP="id=%s" % GLOBEX, GrantFullControl="id=%s" % DOMAIN["id"])
    acme.put_bucket_policy(Bucket="acme-data", Policy=json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"ID": ["domain/%s:user/*" % GLOBEX]},
         "Action": ["DeleteMetricsConfiguration"], "Resource": "acme-data"}]}))
    assert signed(server, "GET", "/acme-data?acl").status_code == 200
    assert signed(server, "GET", "/acme-data?acl&policy").status_code == 403
    assert signed(server, "PUT", "/acme-data?acl&policy", body=json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}).encode()
                  ).status_code == 403
    # a subresource moto does not know is a delete of the bucket itself
    assert signed(server, "DELETE", "/acme-data?metrics&id=x").status_code == 403
    assert server.sim.obs_files.has_bucket("acme-data")


def test_select_reads_the_object(server, acme):
    acme.put_bucket_policy(Bucket="acme-data", Policy=json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"ID": ["domain/%s:user/*" % GLOBEX]},
         "Action": "PutObject", "Resource": "acme-data/*"}]}))
    answer = signed(server, "POST", "/acme-data/in/a.txt?select&select-type=2", body=(
        b"<SelectObjectContentRequest><Expression>select * from s3object</Expression>"
        b"<ExpressionType>SQL</ExpressionType><InputSerialization><CSV/></InputSerialization>"
        b"<OutputSerialization><CSV/></OutputSerialization></SelectObjectContentRequest>"))
    assert answer.status_code == 403 and b"secret" not in answer.content


def test_moto_s_own_policy_reading_binds_no_one(server, acme):
    acme.put_bucket_policy(Bucket="acme-data", Policy=json.dumps({"Statement": [
        {"Effect": "Deny", "Principal": {"AWS": ["arn:aws:iam::%s:root" % GLOBEX]},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-data/*"}]}))
    assert acme.get_object(Bucket="acme-data", Key="in/a.txt")["Body"].read() == b"secret"


@pytest.mark.parametrize("policy", [b"not json", b"[]", b'{"Statement": "x"}',
                                    b'{"Statement": []}', b'{"Statement": [1]}',
                                    b'{"a":' * 600 + b"1" + b"}" * 600, b"\xff\xfe",
                                    b'{"Statement": [{}], "pad": "%s"}' % (b"x" * 21000)])
def test_a_policy_that_is_not_one_is_refused(server, acme, policy):
    answer = signed(server, "PUT", "/acme-data?policy", user="admin", body=policy)
    assert answer.status_code == 400 and b"<Code>MalformedPolicy</Code>" in answer.content
    assert acme.get_object(Bucket="acme-data", Key="in/a.txt")["Body"].read() == b"secret"


def test_an_anonymous_caller_creates_no_bucket_and_reads_what_a_policy_opens():
    running = start_in_thread(Settings(port=0, auth="lenient"))
    try:
        assert requests.put(running.endpoint + "/anon-made", timeout=30).status_code == 403
        assert not running.sim.obs_files.has_bucket("anon-made")
        client = s3(running)
        client.create_bucket(Bucket="site")
        client.put_object(Bucket="site", Key="a.txt", Body=b"open")
        client.put_bucket_policy(Bucket="site", Policy=json.dumps({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "GetObject",
             "Resource": "site/*"}]}))
        assert requests.get(running.endpoint + "/site/a.txt", timeout=30).content == b"open"
    finally:
        running.stop()


def test_an_encoded_bucket_name_is_the_bucket_its_rows_keep(tmp_path):
    running = start_in_thread(Settings(port=0, data_dir=str(tmp_path / "data")))
    try:
        s3(running).create_bucket(Bucket="acme-data")
        assert signed(running, "PUT", "/acme%2Ddata/in/b.txt", user="admin",
                      body=b"b").status_code == 200
    finally:
        running.stop()
    running = start_in_thread(Settings(port=0, data_dir=str(tmp_path / "data")))
    try:
        assert running.sim.obs_files.read("/acme-data/in/b.txt", 1 << 20) == b"b"
    finally:
        running.stop()


def test_the_owner_is_named_in_ids_only_never_in_keys(server, acme):
    from moto.s3.models import OWNER
    key = "ids/%s.json" % OWNER
    acme.put_object(Bucket="acme-data", Key=key, Body=b"{}")
    assert key in [o["Key"] for o in acme.list_objects_v2(Bucket="acme-data")["Contents"]]
    assert acme.get_object(Bucket="acme-data", Key=key)["Body"].read() == b"{}"
