"""Models and conversions: models imported (from a completed training job v2's output, or
from the bucket's models/base/), described and deleted once unused; conversions of a model
for edge devices.

Kinds in TeamWork (facts beside "id"): ``model``: name, version, deploying (services being
created from it); a model that a registered v1 service names, or that is being deployed, is
never deleted; ``conversion``: name (registered once it has finished: it can be deleted).
"""

from __future__ import annotations

from simulator.generate.work.common import (MINUTE, WORK_SLOTS, call, counter, cycled_name,
                                            idle, slipped, taken_oldest)
from simulator.generate.work.training_v2 import TRAINING_V2

MISTAKE_RATE = 0.03  # how often a person slips (a duplicate name, a wrong key): a 4xx warning
MAX_MODELS, MAX_CONVERSIONS = 6, 4

# waits longer than the engine's DWELL for each asynchronous step
MODEL_READY = 3 * MINUTE  # models_publish 90 s
CONVERSION_DONE = 9 * MINUTE  # conversions_run 420 s

MODEL_NAMES = ("image-classifier", "text-classifier", "churn-ranker", "defect-detector")
CONVERSION_TEMPLATES = ("TF-SavedModel-To-Ascend-C32", "TF-FrozenGraph-To-Ascend-C32",
                        "TF-FrozenGraph-To-TFLite")


def _model_version(n: int) -> str:
    return "%d.%d.%d" % (1 + (n // 100) % 99, (n // 10) % 10, n % 10)


def _model_source(actor, work, rng) -> tuple[str, dict]:
    """(source folder, extra body fields): the model a completed training job v2 wrote under
    its output folder, or (now and then, or when none has completed) the bucket's base model."""
    now = actor.run.now_ms()
    done = [job for job in work.assets.get(TRAINING_V2, {}).values()
            if job.get("outcome") == "completed" and job.get("ends_ms", now + 1) <= now]
    if not done or rng.random() < 0.25:
        return work.path("models/base/model/"), {}
    job = rng.choice(done)
    return job["output"].rstrip("/") + "/model/", {"source_job_id": job["id"]}


def new_model(actor, work, rng):
    """Import a model, wait until it is published; returns its facts (busy) or None."""
    name = rng.choice(MODEL_NAMES)
    version = _model_version(counter(work, "model:" + name))
    source, extra = _model_source(actor, work, rng)
    body = {"model_name": name, "model_version": version, "model_type": "PyTorch",
            "source_location": source, "runtime": "python3.7",
            "description": "Imported from %s" % source.split("/", 2)[2], **extra}
    if slipped(rng, MISTAKE_RATE) and work.count("model"):  # imports a version that already exists
        old = idle(work, "model") or list(work.assets["model"].values())
        call(actor, work, "CreateModel", dict(body, model_name=old[0]["name"],
                                              model_version=old[0]["version"]))
        yield 45.0
    reply = call(actor, work, "CreateModel", body)
    if reply.status != 200:
        return None
    facts = work.add("model", reply.body["model_id"], name=name, version=version, deploying=0,
                     busy=True)
    yield MODEL_READY
    return facts


def in_use(work, model: dict) -> bool:
    """Whether a service deploys the model (or is being created from it)."""
    return model["deploying"] > 0 or any(
        s["model_id"] == model["id"] for s in work.assets.get("service", {}).values())


def _retire_models(actor, work, keep: int) -> None:
    while work.count("model") > keep:
        unused = [m for m in idle(work, "model") if not in_use(work, m)]
        if not unused:
            return
        delete_model(actor, work, unused[0])


def delete_model(actor, work, model: dict) -> None:
    call(actor, work, "DeleteModel", model_id=model["id"])
    work.remove("model", model["id"])


def import_model(actor, work, rng):
    """A trained model is registered for deployment (by an engineer, or the CI pipeline
    after a green run) and its description updated; the oldest unused models go."""
    _retire_models(actor, work, MAX_MODELS - 1)
    model = yield from new_model(actor, work, rng)
    if model is None:
        return
    body = {"description": rng.choice(("Validated on the hold-out set", "Candidate for "
                                       "production", "Baseline for comparison"))}
    if rng.random() < 0.3:
        body["model_docs"] = [{"doc_name": "model card",
                               "doc_url": "https://wiki.example.com/%s/%s" % (
                                   work.team.name, model["name"])}]
    call(actor, work, "UpdateModel", body, model_id=model["id"])
    work.release(model)


def _conversion_body(work, rng, name: str) -> dict:
    return {"task_name": name, "framework_type": "tensorflow",
            "template_name": rng.choice(CONVERSION_TEMPLATES),
            "input_path": work.path("models/base/model/"),
            "output_path": work.path("converted/slot-%d/" % (
                counter(work, "conversion-slot") % WORK_SLOTS)),
            "description": "For the edge devices", "params": {"batch_size": rng.choice((1, 8))}}


def convert(actor, work, rng):
    """Start a conversion and note it on the task; returns the task (id, name) or None."""
    name = cycled_name(work, "convert-%s" % work.team.name, "conversion")
    reply = call(actor, work, "CreateConversionTask", _conversion_body(work, rng, name))
    if reply.status != 200:
        return None
    yield rng.uniform(1, 3) * MINUTE
    call(actor, work, "UpdateConversionTask",
         {"description": rng.choice(("Ascend build for the kiosk", "Quantised for edge",
                                     "Retry with batch 1"))}, task_id=reply.body["task_id"])
    return reply.body["task_id"], name


def convert_model(actor, work, rng):
    """An engineer converts a model for edge devices and keeps the finished task; the
    oldest finished tasks are deleted."""
    while work.count("conversion") >= MAX_CONVERSIONS:
        oldest = taken_oldest(work, "conversion")
        if oldest is None:
            break
        call(actor, work, "DeleteConversionTask", task_id=oldest["id"])
        work.remove("conversion", oldest["id"])
    task = yield from convert(actor, work, rng)
    if task is None:
        return
    yield CONVERSION_DONE
    work.add("conversion", task[0], name=task[1])
