"""The catalog holds the seed list exactly, and everything else derives from it."""

import re

import pytest
from pathlib import Path

from simulator import catalog, registry

# the 49 rows of shared/seed/000_fe7159a25cfc8085.txt: (resource type, trace name), in order
SEED = [
    ("dataset", "createDataset"), ("dataset", "deleteDataset"), ("dataset", "updateDataset"),
    ("dataset", "publishDatasetVersion"), ("dataset", "deleteDatasetVersion"),
    ("dataset", "syncDataSource"), ("dataset", "exportDataFromDataset"),
    ("dataset", "importSamplesToDataset"), ("dataset", "createLabel"),
    ("dataset", "updateLabel"), ("dataset", "deleteLabel"), ("dataset", "deleteLabelWithSamples"),
    ("dataset", "uploadSamples"), ("dataset", "deleteSamples"),
    ("Notebook", "create_instance"), ("Notebook", "delete_instance"),
    ("Notebook", "change_instance_status"), ("Notebook", "change_instance_status"),
    ("ModelArtsTrainJob", "createModelArtsTrainJob"),
    ("ModelArtsTrainJob", "createModelArtsTrainVersion"),
    ("ModelArtsTrainJob", "stopModelArtsTrainVersion"),
    ("ModelArtsTrainJob", "updateModelArtsTrainDesc"),
    ("ModelArtsTrainJob", "deleteModelArtsTrainVersion"),
    ("ModelArtsTrainJob", "deleteModelArtsTrainJob"),
    ("ModelArtsTrainConfig", "createModelArtsTrainConfig"),
    ("ModelArtsTrainConfig", "updateModelArtsTrainConfig"),
    ("ModelArtsTrainConfig", "deleteModelArtsTrainConfig"),
    ("ModelArtsTensorboardJob", "createModelArtsTensorboardJob"),
    ("ModelArtsTensorboardJob", "deleteModelArtsTensorboardJob"),
    ("ModelArtsTensorboardJob", "updateModelArtsTensorboardDesc"),
    ("ModelArtsTensorboardJob", "stopModelArtsTensorboardJob"),
    ("ModelArtsTensorboardJob", "restartModelArtsgTensorboardJob"),
    ("model", "addModel"), ("model", "updateModel"), ("model", "deleteModel"),
    ("convert", "addConvert"), ("convert", "updateConvert"), ("convert", "deleteConvert"),
    ("service", "addService"), ("service", "deleteService"), ("service", "updateService"),
    ("service", "startOrStopService"), ("service", "addAkSk"), ("service", "deleteAkSk"),
    ("cluster", "createCluster"), ("cluster", "deleteCluster"), ("cluster", "addClusterNode"),
    ("cluster", "deleteClusterNode"), ("cluster", "createClusterResult"),
]


def test_every_seed_row_is_in_the_catalog_exactly():
    rows = {}
    for op in catalog.OPERATIONS:
        if op.seed_row is not None:
            rows.setdefault(op.seed_row, set()).add((op.resource_type, op.trace_name))
    assert sorted(rows) == list(range(1, 50))
    for number, expected in enumerate(SEED, start=1):
        assert rows[number] == {expected}, number
    assert len({name for _, name in SEED}) == 48


def test_seed_file_agrees_when_present():
    seed = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_fe7159a25cfc8085.txt"
    if not seed.exists():
        return
    names = [n for n in re.findall(r"^([a-z][A-Za-z_]+)$", seed.read_text(), re.M)
             if any(n == t for _, t in SEED)]
    assert names == [t for _, t in SEED]


def test_seed_rows_are_audited_and_sourced():
    for op in catalog.OPERATIONS:
        if op.seed_row is not None:
            assert op.traced and op.source == catalog.SEED and op.service_type == "ModelArts"
        assert op.family in catalog.FAMILIES
        assert op.source in (catalog.SEED, catalog.DOCUMENTED, catalog.INFERRED)


def test_no_trace_name_outside_the_catalog():
    # a name that is also an operation id (pools: CreatePool) may appear as @handler's argument
    names = {op.trace_name for op in catalog.OPERATIONS if op.trace_name} - set(catalog.BY_ID)
    root = Path(__file__).resolve().parents[1] / "simulator"
    for path in root.rglob("*.py"):
        if path.name == "catalog.py":
            continue
        text = path.read_text()
        for name in names:
            assert '"%s"' % name not in text and "'%s'" % name not in text, (path, name)


def test_shared_routes_are_told_apart_by_body():
    table = catalog.routes()
    action = table[("POST", "/v1/{project_id}/demanager/instances/{instance_id}/action")]
    assert [op.operation_id for op in action] == ["StartDevEnvInstance", "StopDevEnvInstance"]
    assert action[0].matches_body({"action": "start"})
    assert not action[0].matches_body({"action": "stop"})
    services = table[("PUT", "/v1/{project_id}/services/{service_id}")]
    assert [op.operation_id for op in services] == ["StartOrStopService", "UpdateService"]
    assert services[0].matches_body({"status": "running"})
    assert not services[0].matches_body({"description": "x"})
    assert services[1].matches_body({"description": "x"})


def test_every_row_is_implemented():
    """Each row has a handler, or (createClusterResult) a family that records it itself."""
    registry.load_all()
    for op in catalog.OPERATIONS:
        assert registry.implemented(op.operation_id), op.operation_id
        assert (op.operation_id in registry.HANDLERS) == (op.method is not None), op.operation_id


def test_flask_rule_and_api_version():
    assert catalog.flask_rule("/v2/{project_id}/datasets/{dataset_id}") == \
        "/v2/<project_id>/datasets/<dataset_id>"
    assert catalog.BY_ID["CreateDataset"].api_version == "v2"
    assert catalog.BY_ID["CreateTrainingJob"].api_version == "v1"


def test_trace_names_can_be_renamed_by_settings(tmp_path):
    from simulator.core import Simulator
    from simulator.settings import Settings, SettingsError
    from tests.conftest import make_app
    from tests.helpers import SignedClient

    app = make_app(trace_names={"CreateDataset": "createDatasetV2", "deleteDataset": "rmDataset"})
    client = SignedClient(app)
    ds = client.post("/v2/{project_id}/datasets", {
        "dataset_name": "d", "data_sources": [{"data_path": "/acme-data/in/"}],
        "work_path": "/acme-data/out/", "work_path_type": 0}).json["dataset_id"]
    client.delete("/v2/{project_id}/datasets/" + ds)
    assert [t["trace_name"] for t in client.traces()] == ["rmDataset", "createDatasetV2"]
    listed = client.get("/v3/{project_id}/operations",
                        query={"service_type": "ModelArts", "resource_type": "dataset"}).json
    assert listed["operations"][0]["operation_list"][:2] == ["createDatasetV2", "rmDataset"]
    for bad in ({"NoSuchOperation": "x"}, {"CreateDataset": "9starts-with-digit"},
                {"ListDatasets": "notAudited"}):
        with pytest.raises(SettingsError):
            Simulator(Settings(trace_names=bad))
