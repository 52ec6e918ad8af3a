"""Unmodified SDK code reaches the simulator both ways: explicit endpoints, or a region and the
environment `modelarts-sim env` prints (the SDK then discovers the project id itself)."""

from huaweicloudsdkcts.v3 import ListQuotasRequest, ListTracesRequest, ListTrackersRequest

from simulator.cli import main
from tests.helpers import USERS


def test_cts_client_both_ways(sdk):
    assert sdk.cts.list_traces(ListTracesRequest()).meta_data.count == 0
    assert sdk.cts.list_quotas(ListQuotasRequest()).to_json_object()["resources"][0] == {
        "type": "system_tracker", "used": 0, "quota": 1}
    assert sdk.cts.list_trackers(ListTrackersRequest()).to_json_object() == {"trackers": []}


def test_env_prints_exports_for_a_running_server(server, capsys):
    assert main(["env", "--endpoint", server.endpoint, "--user", "developer"]) == 0
    out = capsys.readouterr().out.splitlines()
    exports = [line for line in out if line.startswith("export ")]
    assert exports == [
        "export HUAWEICLOUD_SDK_AK=%s" % USERS["developer"]["ak"],
        "export HUAWEICLOUD_SDK_SK=%s" % USERS["developer"]["sk"],
        "export HUAWEICLOUD_SDK_IAM_ENDPOINT=%s" % server.endpoint,
        "export HUAWEICLOUD_SDK_REGION_MODELARTS_CN_NORTH_4=%s" % server.endpoint,
        "export HUAWEICLOUD_SDK_REGION_CTS_CN_NORTH_4=%s" % server.endpoint,
        "export HUAWEICLOUD_SDK_REGION_IAM_CN_NORTH_4=%s" % server.endpoint,
    ]
    assert main(["env", "--user", "nobody", "--endpoint", server.endpoint]) == 2


def test_every_cts_client_call_answers_in_the_cts_dialect(server):
    """Each CtsClient method reaches a real handler: a documented answer, never API Gateway's
    'API does not exist' page."""
    import huaweicloudsdkcts.v3 as v3
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

    from tests.sdk import build

    cts = build(server, "endpoint").cts
    domain = "f3c95789ace1a9542c5d6baed2eac902"
    calls = {
        "list_traces": v3.ListTracesRequest(), "list_operations": v3.ListOperationsRequest(),
        "list_quotas": v3.ListQuotasRequest(), "list_user_resources": v3.ListUserResourcesRequest(),
        "list_trace_resources": v3.ListTraceResourcesRequest(domain_id=domain),
        "list_trackers": v3.ListTrackersRequest(),
        "list_notifications": v3.ListNotificationsRequest(notification_type="smn"),
        "create_tracker": v3.CreateTrackerRequest(body=v3.CreateTrackerRequestBody(
            tracker_type="system", tracker_name="system")),
        "update_tracker": v3.UpdateTrackerRequest(body=v3.UpdateTrackerRequestBody(
            tracker_type="system", tracker_name="system")),
        "delete_tracker": v3.DeleteTrackerRequest(),
        "create_notification": v3.CreateNotificationRequest(body=v3.CreateNotificationRequestBody(
            notification_name="n1", operation_type="complete")),
        "update_notification": v3.UpdateNotificationRequest(body=v3.UpdateNotificationRequestBody(
            notification_name="n1", operation_type="complete", status="enabled",
            notification_id="x")),
        "delete_notification": v3.DeleteNotificationRequest(notification_id="x"),
        "check_obs_buckets": v3.CheckObsBucketsRequest(domain_id=domain,
                                                       body=v3.CheckObsBucketsRequestBody()),
        "batch_create_resource_tags": v3.BatchCreateResourceTagsRequest(
            resource_type="cts-tracker", resource_id="x",
            body=v3.BatchCreateResourceTagsRequestBody(tags=[])),
        "batch_delete_resource_tags": v3.BatchDeleteResourceTagsRequest(
            resource_type="cts-tracker", resource_id="x",
            body=v3.BatchDeleteResourceTagsRequestBody(tags=[])),
    }
    operations = {n[1:-len("_http_info")] for n in dir(type(cts)) if n.endswith("_http_info")}
    assert operations == set(calls)  # every operation the SDK has
    for name, request in calls.items():
        try:
            getattr(cts, name)(request)
        except ClientRequestException as e:
            assert e.error_code.startswith("CTS."), (name, e.error_code, e.error_msg)
