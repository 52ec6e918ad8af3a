"""Model management: the three audited operations leave exactly their record, refusals answer
the modelarts dialect and are traced as warnings, publishing moves on the clock, and a model
some service deploys is not deleted. The assertion helpers here serve the other old-generation
families' tests too (conversions, services, authorizations, clusters)."""

import pytest

from tests.helpers import check_refusal, check_trace, ok, FROZEN_MS, OTHER_PROJECT_ID, SignedClient, \
    obs_put

MODELS = "/v1/{project_id}/models"
IMPORT = {"model_name": "mnist", "model_version": "0.0.1", "model_type": "TensorFlow",
          "source_location": "/acme-models/mnist/", "runtime": "python3.6",
          "description": "digits"}


# -- helpers shared by the old-generation families' tests -------------------------------------

def check(client, resp, **kw):
    kw.setdefault("api_version", "v1")
    return check_trace(client, resp, **kw)


def refused(client, resp, status, code, **kw):
    kw.setdefault("api_version", "v1")
    return check_refusal(client, resp, status, code, **kw)


def package(sim, location: str) -> None:
    """A model package in OBS, as a training job leaves it: what an import reads."""
    obs_put(sim, location + "model/config.json", data=b'{"model_type": "TensorFlow"}')
    obs_put(sim, location + "model/saved_model.pb", data=b"weights")


@pytest.fixture(autouse=True)
def packages(sim):
    for location in ("/acme-models/mnist/", "obs://acme-models/tpl/"):
        package(sim, location)


def import_model(client, sim, published=True, **change) -> str:
    body = {**IMPORT, **change}
    if body["model_type"] != "Image":
        package(sim, body["source_location"])
    model_id = ok(client.post(MODELS, body))["model_id"]
    if published:
        sim.clock.advance(2)
    return model_id


@pytest.fixture
def model(client, sim):
    return import_model(client, sim)


def _check(client, resp, **kw):
    return check(client, resp, resource_type="model", **kw)


def _refused(client, resp, status, code, **kw):
    return refused(client, resp, status, code, resource_type="model", **kw)


# -- one whole record per operation --------------------------------------------------------------

def test_add_model(client):
    resp = client.post(MODELS, IMPORT)
    body = ok(resp)
    assert set(body) == {"model_id"}
    _check(client, resp, trace_name="addModel", operation_id="CreateModel",
           resource_id=body["model_id"], resource_name="mnist", code=200, request=IMPORT,
           response=body, time=FROZEN_MS)


def test_update_model(client, model):
    req = {"description": "handwritten digits",
           "model_docs": [{"doc_name": "guide", "doc_url": "https://example.com/mnist"}]}
    resp = client.put(MODELS + "/" + model, req)
    assert ok(resp) == {}
    _check(client, resp, trace_name="updateModel", operation_id="UpdateModel",
           resource_id=model, resource_name="mnist", code=200, request=req, response=None)
    shown = ok(client.get(MODELS + "/" + model))
    assert shown["description"] == "handwritten digits"
    assert shown["model_docs"] == req["model_docs"]


def test_delete_model(client, model):
    resp = client.delete(MODELS + "/" + model)
    body = ok(resp)
    assert body == {"delete_success_list": [model], "delete_failed_list": []}
    _check(client, resp, trace_name="deleteModel", operation_id="DeleteModel",
           resource_id=model, resource_name="mnist", code=200, request=None, response=body)
    assert ok(client.get(MODELS + "/" + model), 404)["error_code"] == "ModelArts.3001"


# -- refusals ------------------------------------------------------------------------------------

def test_duplicate_name_and_version(client, model):
    resp = client.post(MODELS, IMPORT)
    _refused(client, resp, 409, "ModelArts.3002", trace_name="addModel",
             operation_id="CreateModel", resource_id="", resource_name="mnist", request=IMPORT)
    ok(client.post(MODELS, {**IMPORT, "model_version": "0.0.2"}))


def test_model_not_found_is_404(client):
    resp = client.put(MODELS + "/nope", {"description": "x"})
    body = _refused(client, resp, 404, "ModelArts.3001", trace_name="updateModel",
                    operation_id="UpdateModel", resource_id="nope", resource_name="",
                    request={"description": "x"})
    assert body["error_msg"] == "Model nope does not exist."
    resp = client.delete(MODELS + "/nope")
    _refused(client, resp, 404, "ModelArts.3001", trace_name="deleteModel",
             operation_id="DeleteModel", resource_id="nope", resource_name="", request=None)


@pytest.mark.parametrize("change, message", [
    ({"model_name": "bad name"}, "model_name"),
    ({"model_name": "x" * 65}, "model_name"),
    ({"model_name": None}, "model_name"),
    ({"model_name": 7}, "model_name"),
    ({"model_version": "1.0"}, "model_version"),
    ({"model_version": "01.0.0"}, "model_version"),
    ({"model_version": "1.100.0"}, "model_version"),
    ({"model_version": 1}, "model_version"),
    ({"model_type": "Keras"}, "model_type"),
    ({"model_type": None}, "model_type"),
    ({"source_location": "acme-models/mnist/"}, "source_location"),
    ({"source_location": "/acme-models/"}, "source_location"),
    ({"source_location": "/Bad_Bucket/m/"}, "bucket"),
    ({"source_location": ["/acme-models/m/"]}, "source_location"),
    ({"model_type": "Image", "source_location": "/acme-models/m/"}, "SWR image"),
    ({"description": "a<b"}, "description"),
    ({"description": "x" * 101}, "description"),
    ({"install_type": ["streaming"]}, "install_type"),
    ({"install_type": "batch"}, "install_type"),
    ({"model_docs": [{"doc_name": "d", "doc_url": "ftp://x"}]}, "doc_url"),
    ({"model_docs": [{"doc_name": "d", "doc_url": "https://x"}] * 4}, "model_docs"),
    ({"dependencies": [{"installer": "conda", "packages": []}]}, "installer"),
    ({"dependencies": [{"installer": "pip", "packages": [{"restraint": "EXACT"}]}]},
     "package_name"),
    ({"model_type": "Template"}, "template"),
    ({"runtime": 3.6}, "runtime"),
])
def test_import_validation(client, change, message):
    req = {k: v for k, v in {**IMPORT, **change}.items() if v is not None}
    resp = client.post(MODELS, req)
    name = req.get("model_name")
    body = _refused(client, resp, 400, "ModelArts.0101", trace_name="addModel",
                    operation_id="CreateModel", resource_id="",
                    resource_name=name if isinstance(name, str) else "", request=req)
    assert message in body["error_msg"]


def test_import_accepts_the_documented_shapes(client, sim):
    image = {"model_name": "img", "model_version": "99.99.99", "model_type": "Image",
             "source_location": "swr.cn-north-4.myhuaweicloud.com/acme/infer:1.0"}
    ok(client.post(MODELS, image))
    template = {"model_name": "tpl", "model_version": "1.0.0", "model_type": "Template",
                "source_location": "obs://acme-models/tpl/",
                "template": {"template_id": "tpl-1", "template_inputs": [
                    {"input_id": "model", "input": "/acme-models/tpl/model/"}]},
                "dependencies": [{"installer": "pip", "packages": [
                    {"package_name": "numpy", "package_version": "1.17.0",
                     "restraint": "EXACT"}]}],
                "install_type": ["real-time"]}
    model_id = ok(client.post(MODELS, template))["model_id"]
    shown = ok(client.get(MODELS + "/" + model_id))
    assert (shown["source_location"], shown["install_type"], shown["template"]["template_id"]) \
        == ("/acme-models/tpl/", ["real-time"], "tpl-1")


def test_update_validation(client, model):
    url = MODELS + "/" + model
    for req, message in (({}, "description"), ({"description": "<b>"}, "description"),
                         ({"model_docs": "guide"}, "model_docs"), ([1], "JSON object")):
        resp = client.put(url, req)
        body = _refused(client, resp, 400, "ModelArts.0101", trace_name="updateModel",
                        operation_id="UpdateModel", resource_id=model, resource_name="mnist",
                        request=req or None)  # an empty body is recorded as ""
        assert message in body["error_msg"]
    resp = client.delete(url, query={"cascade": "yes"})
    _refused(client, resp, 400, "ModelArts.0101", trace_name="deleteModel",
             operation_id="DeleteModel", resource_id=model, resource_name="mnist",
             request={"cascade": "yes"})


def test_read_only_auditor_is_refused(client, model):
    auditor = client.as_user("auditor")
    assert ok(auditor.get(MODELS))["total_count"] == 1
    resp = auditor.post(MODELS, IMPORT)
    _refused(client, resp, 403, "ModelArts.0108", trace_name="addModel",
             operation_id="CreateModel", resource_id="", resource_name="", request=IMPORT,
             user="auditor")
    resp = auditor.delete(MODELS + "/" + model)
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0108"
    assert ok(client.get(MODELS + "/" + model))["model_name"] == "mnist"


def test_projects_are_isolated(client, app, model):
    other = SignedClient(app, "admin", OTHER_PROJECT_ID)
    assert ok(other.get(MODELS))["total_count"] == 0
    assert ok(other.get(MODELS + "/" + model), 404)["error_code"] == "ModelArts.3001"
    mallory = client.as_user("mallory")
    resp = mallory.delete(MODELS + "/" + model)
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0210"
    assert ok(client.get(MODELS + "/" + model))["model_status"] == "published"


# -- lifecycle -----------------------------------------------------------------------------------

def test_publishing_moves_on_the_clock(client, sim):
    model_id = import_model(client, sim, published=False)
    url = MODELS + "/" + model_id
    assert ok(client.get(url))["model_status"] == "publishing"
    sim.clock.advance(0.9)
    assert ok(client.get(url))["model_status"] == "publishing"
    sim.clock.advance(0.1)
    shown = ok(client.get(url))
    assert shown["model_status"] == "published"
    assert (shown["model_name"], shown["model_version"], shown["model_type"], shown["runtime"],
            shown["tenant"], shown["project"], shown["owner"], shown["create_at"]) == (
        "mnist", "0.0.1", "TensorFlow", "python3.6", "f3c95789ace1a9542c5d6baed2eac902",
        client.project_id, "f1260ebc7d56ab567714dc919b27dbdf", FROZEN_MS)
    assert shown["model_size"] == 35  # its files in OBS: config.json (28) and weights (7)


def _admin(app, path, body):
    return app.test_client().post("/_sim" + path, json=body)


def test_sim_lifecycle_controls_for_models(client, app, sim):
    _admin(app, "/lifecycle", {"family": "models", "mode": "manual"})
    first = import_model(client, sim, published=False)
    sim.clock.advance(3600)
    assert ok(client.get(MODELS + "/" + first))["model_status"] == "publishing"
    moved = _admin(app, "/lifecycle/advance", {"kind": "model", "id": first}).json
    assert moved == {"kind": "model", "id": first, "status": "published", "changed": True}
    second = import_model(client, sim, published=False, model_version="0.0.2")
    failed = _admin(app, "/lifecycle/fail", {"kind": "model", "id": second,
                                             "reason": "model files not found"}).json
    assert failed["status"] == "failed"
    shown = ok(client.get(MODELS + "/" + second))
    assert (shown["model_status"], shown["error_msg"]) == ("failed", "model files not found")
    assert _admin(app, "/lifecycle/advance", {"kind": "model", "id": "nope"}).status_code == 404


# -- lists ---------------------------------------------------------------------------------------

def test_list_filters_paging_and_sorting(client, sim):
    for i, (name, version) in enumerate([("mnist", "0.0.1"), ("mnist", "0.0.10"),
                                         ("mnist", "0.0.2"), ("resnet_50", "1.0.0"),
                                         ("resnetx50", "1.0.0")]):
        import_model(client, sim, model_name=name, model_version=version,
                     model_type="PyTorch" if "resnet" in name else "TensorFlow",
                     source_location="/acme-models/m%d/" % i)
    listed = ok(client.get(MODELS))
    assert (listed["total_count"], listed["count"]) == (5, 5)
    assert [m["model_name"] for m in listed["models"]][:2] == ["resnetx50", "resnet_50"]
    assert set(listed["models"][0]) >= {"model_id", "model_name", "model_version", "model_type",
                                        "model_status", "model_size", "tenant", "project",
                                        "owner", "create_at", "description", "install_type"}
    # offset is a page index
    page = ok(client.get(MODELS, query={"limit": 2, "offset": 1, "order": "asc"}))
    assert (page["total_count"], page["count"]) == (5, 2)
    assert [(m["model_name"], m["model_version"]) for m in page["models"]] == [
        ("mnist", "0.0.2"), ("resnet_50", "1.0.0")]
    by_version = ok(client.get(MODELS, query={"model_name": "mnist", "sort_by": "model_version",
                                              "order": "asc"}))
    assert [m["model_version"] for m in by_version["models"]] == ["0.0.1", "0.0.2", "0.0.10"]
    assert ok(client.get(MODELS, query={"model_name": "RESNET"}))["total_count"] == 2
    assert ok(client.get(MODELS, query={"model_name": "resnet_50", "exact_match": "true"}))[
        "total_count"] == 1
    assert ok(client.get(MODELS, query={"model_type": "PyTorch"}))["total_count"] == 2
    assert ok(client.get(MODELS, query={"not_model_type": "PyTorch"}))["total_count"] == 3
    assert ok(client.get(MODELS, query={"model_version": "1.0.0"}))["total_count"] == 2
    assert ok(client.get(MODELS, query={"model_status": "published"}))["total_count"] == 5
    assert ok(client.get(MODELS, query={"model_status": "publishing"}))["total_count"] == 0
    for bad in ({"limit": 0}, {"limit": "x"}, {"offset": -1}, {"order": "up"},
                {"sort_by": "model_name"}, {"model_name": "m", "exact_match": "maybe"}):
        resp = client.get(MODELS, query=bad)
        assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0101", bad
