"""What a training job reads from OBS before it runs, and what it leaves there when it ends.

A job whose code, boot file or data is missing from OBS, or whose output bucket does not
exist, is still created (the service checks none of it on the call) but fails once it runs,
with the reason its log would give. A job that completes writes a model package under its
output path (``model/config.json`` and the engine's weights file: what a model import from
that path takes) and one log per worker (``modelarts-job-{id}-worker-{n}.log``) under its log
path, or its output path when it has none. A failed job writes only its logs. The file
contents are made up but stay the same for the same job.
"""

from __future__ import annotations

import hashlib
import time

import orjson

from simulator.obs.files import ObsFiles, join

# the weights file a completed job of each engine family writes (by engine name, lower case)
WEIGHTS = {"tensorflow": "saved_model.pb", "pytorch": "model.pth", "mxnet": "model-0000.params",
           "caffe": "model.caffemodel", "mindspore": "model.ckpt", "ascend": "model.om",
           "spark_mllib": "model.parquet", "scikit_learn": "model.pkl", "xgboost": "model.bst"}
DEFAULT_WEIGHTS = "model.bin"


def missing_input(files: ObsFiles, *, code_dir: str = "", boot_file: str = "",
                  data: tuple = (), output: str = "") -> str | None:
    """Why a job cannot run (the message its log would show), or None when everything it
    reads is there and its output bucket exists."""
    if code_dir and not files.exists(_folder(code_dir)):
        return "Failed to download the code directory %s: no such OBS path." % code_dir
    if boot_file and not files.exists(boot_file):
        return "Boot file %s: No such file or directory." % boot_file
    for path in data:
        if path and not (files.exists(path) or files.exists(_folder(path))):
            return "Data %s: file or directory or bucket not found." % path
    if output and not files.has_bucket(output):
        return "Output %s: the OBS bucket does not exist." % output
    return None


def _folder(path: str) -> str:
    return path if path.endswith("/") else path + "/"


def write(files: ObsFiles, *, job_id: str, job_name: str, engine: str, workers: int,
          output: str, log_dir: str, started_ms: int, ended_ms: int,
          failed: str | None = None) -> list[str]:
    """Write what an ended job leaves: its logs, and its model when it completed. Returns the
    paths written (a path whose bucket is gone is skipped: the job could not upload it)."""
    written = []
    logs = log_dir or output
    if logs:
        for worker in range(max(workers, 1)):
            path = join(_folder(logs), "modelarts-job-%s-worker-%d.log" % (job_id, worker))
            if files.write(path, _log(job_name, worker, started_ms, ended_ms, failed)):
                written.append(path)
    if failed is None and output:
        model = join(_folder(output), "model")
        weights = WEIGHTS.get(engine.lower().split("-")[0], DEFAULT_WEIGHTS)
        config = orjson.dumps({"model_type": engine or "Custom",
                               "model_algorithm": "image_classification",
                               "metrics": {"accuracy": _score(job_id)},
                               "runtime": "python3.7"}, option=orjson.OPT_INDENT_2)
        for name, data in (("config.json", config), (weights, _weights(job_id))):
            path = join(model, name)
            if files.write(path, data):
                written.append(path)
    return written


def _stamp(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))


def _log(job_name: str, worker: int, started_ms: int, ended_ms: int, failed: str | None) -> bytes:
    lines = ["[%s] [ModelArts Service Log] job %s worker-%d: init task" % (
        _stamp(started_ms), job_name, worker),
        "[%s] [ModelArts Service Log] modelarts-downloader: downloading code and data" % (
        _stamp(started_ms))]
    if failed is not None:
        lines.append("[%s] [ModelArts Service Log] ERROR: %s" % (_stamp(ended_ms), failed))
        lines.append("[%s] [ModelArts Service Log] Training end with return code: 1" % (
            _stamp(ended_ms)))
    else:
        lines.append("[%s] [ModelArts Service Log] Training completed." % _stamp(ended_ms))
        lines.append("[%s] [ModelArts Service Log] Training end with return code: 0" % (
            _stamp(ended_ms)))
    return ("\n".join(lines) + "\n").encode()


def _score(job_id: str) -> float:
    digest = hashlib.sha256(job_id.encode()).digest()
    return round(0.7 + digest[0] / 255 * 0.29, 4)


def _weights(job_id: str) -> bytes:
    return hashlib.sha256(("weights:" + job_id).encode()).digest() * 64  # 2 KiB
