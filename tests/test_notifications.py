"""Key event notifications: the API (reference section 2.3), through huaweicloudsdkcts too,
and their delivery to a local HTTP receiver started by the test."""

from __future__ import annotations

import http.server
import threading

import orjson
import pytest
import requests
from huaweicloudsdkcts.v3 import (CreateNotificationRequest, CreateNotificationRequestBody,
                                  DeleteNotificationRequest, ListNotificationsRequest,
                                  NotificationUsers, Operations, UpdateNotificationRequest,
                                  UpdateNotificationRequestBody)

from simulator.server import start_in_thread
from simulator.settings import Settings
from tests.helpers import PROJECT_ID, server_call
from tests.conftest import FIXTURE_BUCKETS

NOTIFICATIONS = "/v3/{project_id}/notifications"
TOPIC = "urn:smn:cn-north-4:%s:audit-alerts" % PROJECT_ID
DS = "/v2/{project_id}/datasets"


def notification(**over):
    body = {"notification_name": "dataset-changes", "operation_type": "customized",
            "operations": [{"service_type": "ModelArts", "resource_type": "dataset",
                            "trace_names": ["createDataset", "deleteDataset"]}],
            "topic_id": TOPIC}
    body.update(over)
    return body


def dataset(name):
    return {"dataset_name": name, "data_sources": [{"data_path": "/acme-data/x/"}],
            "work_path": "/acme-data/out/", "work_path_type": 0}


# -- the API ---------------------------------------------------------------------------------

def test_create_list_update_delete(client, sim):
    created = client.post(NOTIFICATIONS, notification())
    assert created.status_code == 201, created.json
    body = created.json
    assert body == {"notification_id": body["notification_id"],
                    "notification_name": "dataset-changes", "operation_type": "customized",
                    "operations": notification()["operations"], "notify_user_list": [],
                    "topic_id": TOPIC, "status": "enabled", "notification_type": "smn",
                    "project_id": PROJECT_ID, "create_time": sim.clock.now_ms(),
                    "filter": None, "agency_name": None}
    assert client.get(NOTIFICATIONS + "/smn").json == {"notifications": [body]}
    assert client.get(NOTIFICATIONS + "/fun").json == {"notifications": []}
    assert client.get(NOTIFICATIONS + "/smn", query={"notification_name": "x"}).json == {
        "notifications": []}
    quotas = client.get("/v3/{project_id}/quotas").json["resources"]
    assert quotas[2] == {"type": "smn_notification", "used": 1, "quota": 100}

    off = client.put(NOTIFICATIONS, {"notification_id": body["notification_id"],
                                     "status": "disabled"})
    assert off.status_code == 200 and off.json["status"] == "disabled"
    assert client.delete(NOTIFICATIONS, query={"notification_id": body["notification_id"]}
                         ).status_code == 204
    assert client.get(NOTIFICATIONS + "/smn").json == {"notifications": []}


@pytest.mark.parametrize("body, code", [
    (notification(notification_name="bad name!"), "CTS.0003"),
    (notification(operation_type="some"), "CTS.0003"),
    (notification(operations=[]), "CTS.0003"),
    (notification(operations=[{"service_type": "ModelArts"}]), "CTS.0003"),
    (notification(topic_id="arn:aws:sns:x"), "CTS.0003"),
    (notification(filter={"condition": "XOR", "rule": []}), "CTS.0003"),
    (notification(filter={"condition": "AND", "rule": ["colour = red"]}), "CTS.0003"),
    (notification(notify_user_list=[{"user_group": "g", "user_list": ["u"]}] * 11),
     "CTS.0003"),
    ("not an object", "CTS.0003"),
])
def test_bad_notifications_are_refused(client, body, code):
    resp = client.post(NOTIFICATIONS, body)
    assert resp.status_code == 400 and resp.json["error_code"] == code, resp.json


def test_names_are_unique_and_ids_must_exist(client):
    client.post(NOTIFICATIONS, notification())
    again = client.post(NOTIFICATIONS, notification(topic_id=None))
    assert again.json["error_code"] == "CTS.0400"
    missing = client.put(NOTIFICATIONS, {"notification_id": "nope", "status": "enabled"})
    assert missing.status_code == 400 and missing.json["error_code"] == "CTS.0003"
    gone = client.delete(NOTIFICATIONS, query={"notification_id": "nope,also-nope"})
    assert gone.status_code == 400
    untopiced = client.post(NOTIFICATIONS, notification(notification_name="n2",
                                                        topic_id=None)).json
    assert untopiced["status"] == "disabled"
    enabling = client.put(NOTIFICATIONS, {"notification_id": untopiced["notification_id"],
                                          "status": "enabled"})
    assert enabling.json["error_code"] == "CTS.0003"  # an enabled notification needs a topic


def test_the_sdk_manages_notifications(server, sdk):
    created = sdk.cts.create_notification(CreateNotificationRequest(
        body=CreateNotificationRequestBody(
            notification_name="from-sdk", operation_type="customized",
            operations=[Operations(service_type="ModelArts", resource_type="dataset",
                                   trace_names=["deleteDataset"])],
            notify_user_list=[NotificationUsers(user_group="ops", user_list=["admin"])],
            topic_id=TOPIC)))
    assert created.notification_name == "from-sdk" and created.status == "enabled"
    listed = sdk.cts.list_notifications(ListNotificationsRequest(notification_type="smn"))
    assert [n.notification_id for n in listed.notifications] == [created.notification_id]
    sdk.cts.update_notification(UpdateNotificationRequest(body=UpdateNotificationRequestBody(
        notification_id=created.notification_id, notification_name="from-sdk",
        operation_type="complete", status="disabled")))
    listed = sdk.cts.list_notifications(ListNotificationsRequest(notification_type="smn"))
    assert (listed.notifications[0].operation_type, listed.notifications[0].status) == (
        "complete", "disabled")
    sdk.cts.delete_notification(DeleteNotificationRequest(
        notification_id=created.notification_id))
    assert sdk.cts.list_notifications(ListNotificationsRequest(
        notification_type="smn")).notifications == []


# -- delivery --------------------------------------------------------------------------------

class Receiver:
    """A local webhook: records every POST; answers `statuses` in turn (then 200)."""

    def __init__(self, statuses=()):
        self.received, self.statuses = [], list(statuses)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = outer.statuses.pop(0) if outer.statuses else 200
                outer.received.append((status, orjson.loads(body)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _attempts(server):
    return requests.get(server.endpoint + "/_sim/notifications?wait=1", timeout=60).json()[
        "attempts"]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _server(receiver_url, **settings):
    return start_in_thread(Settings(port=0, obs_buckets=FIXTURE_BUCKETS, notifications={
        "topics": {TOPIC: receiver_url}, "backoff_s": 0.01, "attempts": 3}, **settings))


def test_a_matching_trace_is_delivered_and_others_are_not(receiver):
    server = _server(receiver.url)
    try:
        assert server_call(server, "POST", NOTIFICATIONS, notification(
            filter={"condition": "AND", "is_support_filter": True,
                    "rule": ["code = 201", "trace_rating = normal"]})).status_code == 201
        created = server_call(server, "POST", DS, dataset("watched"))
        assert created.status_code == 201
        refused = server_call(server, "POST", DS, {"dataset_name": "x"})  # 400: filtered out
        assert refused.status_code == 400
        server_call(server, "GET", DS)  # not an operation of the notification
        attempts = _attempts(server)
        assert [(a["trace_name"], a["outcome"], a["attempt"]) for a in attempts] == [
            ("createDataset", "delivered", 1)]
        [(status, message)] = receiver.received
        assert status == 200 and message["type"] == "Notification"
        assert message["topic_urn"] == TOPIC
        trace = orjson.loads(message["message"])
        listed = server_call(server, "GET", "/v3/{project_id}/traces",
                             query="trace_name=createDataset").json()["traces"]
        assert [trace] == [t for t in listed if t["code"] == "201"]
    finally:
        server.stop()


def test_a_failing_webhook_is_retried_with_backoff(receiver):
    receiver.statuses = [500, 503]
    server = _server(receiver.url)
    try:
        server_call(server, "POST", NOTIFICATIONS,
                    notification(operation_type="complete", operations=[]))
        server_call(server, "POST", DS, dataset("retried"))
        # a complete notification hears of every trace, CTS's own createNotification first
        assert [(a["trace_name"], a["attempt"], a.get("status"), a["outcome"])
                for a in _attempts(server)] == [
            ("createNotification", 1, 500, "refused"), ("createNotification", 2, 503, "refused"),
            ("createNotification", 3, 200, "delivered"), ("createDataset", 1, 200, "delivered")]
    finally:
        server.stop()


def test_an_unreachable_webhook_never_holds_up_the_call():
    unreachable = Receiver()
    url = unreachable.url
    unreachable.close()  # nobody listens there now
    server = _server(url)
    try:
        server_call(server, "POST", NOTIFICATIONS,
                    notification(operation_type="complete", operations=[]))
        assert server_call(server, "POST", DS, dataset("alone")).status_code == 201
        attempts = _attempts(server)
        assert [(a["trace_name"], a["outcome"]) for a in attempts] == \
            [("createNotification", "failed: ConnectionError")] * 3 \
            + [("createDataset", "failed: ConnectionError")] * 3
    finally:
        server.stop()


def test_only_the_listed_users_and_a_topic_without_webhook_is_said(receiver):
    server = start_in_thread(Settings(port=0, obs_buckets=FIXTURE_BUCKETS, notifications={"topics": {}}))
    try:
        server_call(server, "POST", NOTIFICATIONS, notification(
            operation_type="complete", operations=[],
            notify_user_list=[{"user_group": "admins", "user_list": ["admin"]}]))
        assert server_call(server, "POST", DS, dataset("by-developer"),
                     user="developer").status_code == 201
        server_call(server, "POST", DS, dataset("by-admin"))
        # the developer's call is not the listed users'; the admin's creation of the
        # notification is (CTS records it)
        attempts = _attempts(server)
        assert [a["trace_name"] for a in attempts] == ["createNotification", "createDataset"]
        for attempt in attempts:
            assert attempt["url"] is None and "no webhook" in attempt["outcome"]
    finally:
        server.stop()


def test_malformed_ids_and_rules_are_refused(client):
    assert client.put(NOTIFICATIONS, {"notification_id": ["a"], "status": "enabled"}
                      ).json["error_code"] == "CTS.0003"
    long_rule = "code = " + " " * 40_000 + "200"
    resp = client.post(NOTIFICATIONS, notification(filter={"condition": "AND",
                                                           "rule": [long_rule]}))
    assert resp.status_code == 400 and resp.json["error_code"] == "CTS.0003"


def test_notification_writes_leave_whole_cts_traces(client, sim):
    from tests.helpers import cts_record
    created = client.post(NOTIFICATIONS, notification())
    n_id = created.json["notification_id"]
    trace = client.last_trace()
    assert trace == cts_record(
        trace, trace_name="createNotification", operation_id="CreateNotification",
        resource_type="notification", resource_id=n_id, resource_name="dataset-changes",
        code=201, request=notification(), response=created.json,
        request_id=created.headers["X-Request-Id"])
    off = {"notification_id": n_id, "status": "disabled"}
    resp = client.put(NOTIFICATIONS, off)
    trace = client.last_trace()
    assert trace == cts_record(
        trace, trace_name="updateNotification", operation_id="UpdateNotification",
        resource_type="notification", resource_id=n_id, resource_name="dataset-changes",
        code=200, request=off, response=resp.json, request_id=resp.headers["X-Request-Id"])
    bad = {"notification_id": n_id, "status": "paused"}
    resp = client.put(NOTIFICATIONS, bad)
    assert resp.status_code == 400
    trace = client.last_trace()  # a refused change names the notification
    assert trace == cts_record(
        trace, trace_name="updateNotification", operation_id="UpdateNotification",
        resource_type="notification", resource_id=n_id, resource_name="dataset-changes",
        code=400, request=bad, response=resp.json, rating="warning", error_code="CTS.0003",
        request_id=resp.headers["X-Request-Id"])
    resp = client.delete(NOTIFICATIONS, query={"notification_id": n_id})
    trace = client.last_trace()
    assert trace == cts_record(
        trace, trace_name="deleteNotification", operation_id="DeleteNotification",
        resource_type="notification", resource_id=n_id, resource_name="dataset-changes",
        code=204, request={"notification_id": n_id}, response=None,
        request_id=resp.headers["X-Request-Id"])
    resp = client.delete(NOTIFICATIONS, query={"notification_id": n_id})
    trace = client.last_trace()  # an unknown id: the trace names the id asked for
    assert trace == cts_record(
        trace, trace_name="deleteNotification", operation_id="DeleteNotification",
        resource_type="notification", resource_id=n_id, resource_name="", code=400,
        request={"notification_id": n_id}, response=resp.json, rating="warning",
        error_code="CTS.0003", request_id=resp.headers["X-Request-Id"])
    count = sim.traces.count()
    client.get(NOTIFICATIONS + "/smn")
    assert sim.traces.count() == count
