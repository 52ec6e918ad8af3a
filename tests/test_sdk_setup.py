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
