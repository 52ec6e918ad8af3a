"""Testing an audit collector with modelarts-sim's pytest plugin (docs/testing.md).

The collector and the polling loop at the top stand for your own code; the tests below them
need nothing but `pip install modelarts-sim huaweicloudsdkcts`: the plugin starts a simulator
on a free port the first time a test asks for one and resets it before every test.
"""

import os
import time

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ServiceResponseException
from huaweicloudsdkcts.v3 import CtsClient, ListTracesRequest
from huaweicloudsdkcts.v3.region.cts_region import CtsRegion


# -- the code under test (normally in your own package) -----------------------------------------

class AuditCollector:
    """Polls CTS for ModelArts traces, hands on the new ones, alerts on refused calls."""

    def __init__(self, cts, sleep=time.sleep, attempts=4, backoff_s=0.5):
        self.cts = cts
        self.sleep = sleep
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.newest_seen = None  # trace_id of the newest trace handed on so far
        self.alerts = []

    @classmethod
    def from_environment(cls, region="cn-north-4", **kw):
        """The way it is built in production: a region and the HUAWEICLOUD_SDK_* variables."""
        cred = BasicCredentials(os.environ["HUAWEICLOUD_SDK_AK"],
                                os.environ["HUAWEICLOUD_SDK_SK"])
        cts = (CtsClient.new_builder().with_credentials(cred)
               .with_region(CtsRegion.value_of(region)).build())
        return cls(cts, **kw)

    def poll(self):
        """The traces recorded since the last poll, oldest first."""
        fresh, marker = [], None
        while True:
            page = self._list(ListTracesRequest(trace_type="system", service_type="ModelArts",
                                                limit=200, next=marker))
            for trace in page.traces:  # newest first: stop at the first one already seen
                if trace.trace_id == self.newest_seen:
                    marker = None
                    break
                fresh.append(trace.to_dict())
            else:
                marker = page.meta_data.marker
            if marker is None:
                break
        if fresh:
            self.newest_seen = fresh[0]["trace_id"]
        fresh.reverse()
        self.alerts += ["%s %s by %s: %s" % (t["trace_rating"], t["trace_name"],
                                             t["user"]["name"], t["code"])
                        for t in fresh if t["trace_rating"] != "normal"]
        return fresh

    def _list(self, request):
        """ListTraces, retried with exponential back-off when CTS throttles or fails."""
        for attempt in range(self.attempts):
            try:
                return self.cts.list_traces(request)
            except ServiceResponseException as exc:  # 4xx and 5xx answers
                if exc.status_code not in (429, 500, 503) or attempt == self.attempts - 1:
                    raise
                self.sleep(self.backoff_s * 2 ** attempt)


def wait_until_ready(get_dataset, dataset_id, sleep=time.sleep, interval_s=30,
                     timeout_s=1800):
    """A pipeline step: poll a dataset until it is ready (status 1); fail on status 4."""
    waited = 0
    while True:
        dataset = get_dataset(dataset_id)
        if dataset["status"] == 1:
            return dataset
        if dataset["status"] == 4:
            raise RuntimeError("dataset %s failed" % dataset_id)
        if waited >= timeout_s:
            raise TimeoutError("dataset %s not ready after %d s" % (dataset_id, waited))
        sleep(interval_s)
        waited += interval_s


# -- the tests ----------------------------------------------------------------------------------

DATASETS = "/v2/{project_id}/datasets"


def create_dataset(sim, name="flowers"):
    """A dataset over a folder of the simulator's OBS; its id."""
    sim.put_object("/acme-data/in/rose.jpg", b"\xff\xd8 a jpeg")
    resp = sim.post(DATASETS, {"dataset_name": name, "work_path": "/acme-data/out/",
                               "work_path_type": 0,
                               "data_sources": [{"data_path": "/acme-data/in/"}]})
    assert resp.status_code == 201, resp.text
    return resp.json()["dataset_id"]


def test_the_collector_hands_on_each_trace_once(modelarts_sim, cts_client):
    developer = modelarts_sim.as_user("developer")
    dataset_id = create_dataset(developer)
    collector = AuditCollector(cts_client)

    [trace] = collector.poll()
    assert (trace["trace_name"], trace["resource_id"], trace["user"]["name"]) == (
        "createDataset", dataset_id, "developer")
    assert collector.poll() == []  # nothing new

    developer.delete(DATASETS + "/" + dataset_id)
    assert [t["trace_name"] for t in collector.poll()] == ["deleteDataset"]


def test_a_refused_call_raises_an_alert(modelarts_sim, cts_client):
    auditor = modelarts_sim.as_user("auditor")  # read-only: may not create datasets
    assert auditor.post(DATASETS, {"dataset_name": "x"}).status_code == 403
    collector = AuditCollector(cts_client)
    collector.poll()
    assert collector.alerts == ["warning createDataset by auditor: 403"]
    # the same, asked of the simulator directly
    modelarts_sim.assert_traced(trace_name="createDataset", rating="warning", user="auditor",
                                code=403)


def test_throttling_is_retried_with_back_off(modelarts_sim, cts_client):
    create_dataset(modelarts_sim)
    slept = []
    collector = AuditCollector(cts_client, sleep=slept.append)  # no real sleeping
    modelarts_sim.fault(operation="ListTraces", status=429, count=1)

    assert [t["trace_name"] for t in collector.poll()] == ["createDataset"]
    assert slept == [0.5]  # one 429, one back-off, then the call went through


def test_an_outage_ends_in_an_error(modelarts_sim, cts_client):
    with modelarts_sim.fault(operation="ListTraces", status=503):  # until the block ends
        collector = AuditCollector(cts_client, sleep=lambda s: None)
        with pytest.raises(ServiceResponseException) as refused:
            collector.poll()
        assert refused.value.status_code == 503
    assert collector.poll() == []  # the rule is gone: CTS answers again


def test_built_from_the_environment(modelarts_sim_env):
    create_dataset(modelarts_sim_env)
    collector = AuditCollector.from_environment()
    assert [t["trace_name"] for t in collector.poll()] == ["createDataset"]


def test_a_polling_loop_without_sleeping(modelarts_sim):
    dataset_id = create_dataset(modelarts_sim)

    def get_dataset(dataset_id):
        return modelarts_sim.get(DATASETS + "/" + dataset_id).json()

    # each "sleep" of the loop moves the simulation clock on instead
    dataset = wait_until_ready(get_dataset, dataset_id, sleep=modelarts_sim.advance)
    assert dataset["dataset_name"] == "flowers"


def test_a_failure_mid_way(modelarts_sim):
    modelarts_sim.lifecycle("manual")  # nothing moves unless the test says so
    dataset_id = create_dataset(modelarts_sim)

    def get_dataset(dataset_id):
        return modelarts_sim.get(DATASETS + "/" + dataset_id).json()

    def sleep(seconds):  # the dataset fails while the loop waits
        modelarts_sim.fail_resource("dataset", dataset_id, reason="OBS path not readable")

    with pytest.raises(RuntimeError, match="failed"):
        wait_until_ready(get_dataset, dataset_id, sleep=sleep)
