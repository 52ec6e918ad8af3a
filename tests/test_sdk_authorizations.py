"""Authorizations through huaweicloudsdkmodelarts reach the endpoints of the seed's addAkSk and
deleteAkSk, and leave those traces; the SK never comes back, through the SDK or CTS."""

import json

from huaweicloudsdkcts.v3 import ListTracesRequest
from huaweicloudsdkmodelarts.v1 import (AuthorizationRequest, CreateAuthorizationRequest,
                                        DeleteAuthorizationsRequest, GetAuthorizationsRequest)

from tests.helpers import USERS


def test_access_key_authorization_round_trip(sdk):
    dev = USERS["developer"]
    created = sdk.modelarts.create_authorization(CreateAuthorizationRequest(
        body=AuthorizationRequest(user_id=dev["id"], type="credential", content=dev["ak"],
                                  secret_key=dev["sk"], user_name="developer")))
    assert created.body == {"result": "true"}
    listed = sdk.modelarts.get_authorizations(GetAuthorizationsRequest())
    assert dev["sk"] not in json.dumps(listed.to_json_object())
    assert [a.user_id for a in listed.auth] == [dev["id"]]
    sdk.modelarts.delete_authorizations(DeleteAuthorizationsRequest(user_id=dev["id"]))
    assert sdk.modelarts.get_authorizations(GetAuthorizationsRequest()).auth == []

    traces = sdk.cts.list_traces(ListTracesRequest(service_type="ModelArts",
                                                   resource_type="service", limit=50)).traces
    assert [(t.trace_name, t.resource_id, t.resource_name, t.code, t.trace_rating)
            for t in traces] == [("deleteAkSk", dev["ak"], "developer", "200", "normal"),
                                 ("addAkSk", dev["ak"], "developer", "200", "normal")]
    assert all(dev["sk"] not in (t.request or "") + (t.response or "") for t in traces)
    assert json.loads(traces[1].request)["secret_key"] == "********"
