"""Data traces: object operations on a bucket that an enabled data tracker watches
(reference section 3.4), recorded after moto has answered them.

Each is a trace of its own listing (trace_type=data, the tracker's name), queryable with
ListTraces(trace_type=data, tracker_name=...) and delivered to the tracker's own bucket. The
record is the management record's shape with service_type OBS, resource_type object,
resource_id "bucket/key", resource_name the key, trace_type ObsSDK when an OBS SDK sent it
(its User-Agent) and ObsAPI otherwise, and event_type "data" (the reference has no full
example; these are the simulator's choices, said in docs/trackers.md).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote

from simulator import catalog
from simulator.cts.record import user_info
from simulator.obs import access
from simulator.pipeline import trace_input

# (catalog operation id, whether it reads), by what the request looks like
SYSTEM_OPERATIONS = tuple(op.operation_id for op in catalog.OPERATIONS if op.family == "obs")
READS = {op.operation_id for op in catalog.OPERATIONS if op.family == "obs" and op.read_only}


def classify(method: str, key: str | None, params: dict, headers: dict) -> str | None:
    """The data operation a request is, or None (bucket-level and other calls)."""
    if key is None:
        return "ObsDeleteObjects" if method == "POST" and "delete" in params else None
    if method == "PUT":
        if "partNumber" in params and "uploadId" in params:
            return "ObsUploadPart"
        if any(params.keys() - {"versionId"}):  # ?acl, ?tagging ...: not a data event here
            return None
        return "ObsCopyObject" if "x-amz-copy-source" in headers or \
            "x-obs-copy-source" in headers else "ObsPutObject"
    if method == "GET":
        return "ObsGetObject" if not params.keys() - {"versionId"} - _RESPONSE_PARAMS else None
    if method == "HEAD":
        return "ObsHeadObject"
    if method == "DELETE":
        return "ObsAbortMultipartUpload" if "uploadId" in params else "ObsDeleteObject"
    if method == "POST":
        if "uploads" in params:
            return "ObsInitiateMultipartUpload"
        if "uploadId" in params:
            return "ObsCompleteMultipartUpload"
    return None


_RESPONSE_PARAMS = {"response-content-type", "response-content-language", "response-expires",
                    "response-cache-control", "response-content-disposition",
                    "response-content-encoding"}
# a signed URL's own parameters: not part of the operation, and never shown in a trace
_AUTH_PARAMS = {"AWSAccessKeyId", "AccessKeyId", "Expires", "Signature", "X-Amz-Algorithm",
                "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                "X-Amz-Signature", "x-amz-security-token", "x-obs-security-token"}


def watchers(sim, bucket: str, operation_id: str) -> list:
    """(project, tracker) of every enabled data tracker recording this operation on bucket."""
    from simulator.cts.trackers import FAMILY
    event = "READ" if operation_id in READS else "WRITE"
    found = []
    with sim.lock:  # trackers change under it
        states = [(project_id, list(state.trackers.values()))
                  for project_id, state in sim.states_of(FAMILY)]
    owner = access.bucket_owner(sim, bucket)  # only the owning account's trackers watch it
    for project_id, trackers in states:
        project = sim.directory.project(project_id)
        if project is None or project.domain.id != owner:
            continue
        for tracker in trackers:
            data = tracker.data_bucket
            if (tracker.type == "data" and tracker.status == "enabled" and data
                    and data["data_bucket_name"] == bucket and event in data["data_event"]):
                found.append((project, tracker))
    return found


def split_path(raw_path: str) -> tuple[str, str | None]:
    """(bucket, key or None) of a path-style OBS path."""
    bucket, _, key = unquote(raw_path).lstrip("/").partition("/")
    return bucket, key or None


def record(sim, *, environ: dict, raw_path: str, raw_query: str, headers: dict, status: int,
           arrival_ms: int, request_id: str, access_key: str | None, source_ip: str) -> int:
    """Record the data traces of one answered OBS request. Returns how many were recorded."""
    bucket, key = split_path(raw_path)
    params = {k: v for k, v in parse_qsl(raw_query, keep_blank_values=True)
              if k not in _AUTH_PARAMS and k.lower() not in _AUTH_PARAMS}
    operation_id = classify(environ.get("REQUEST_METHOD", "GET"), key, params, headers)
    if operation_id is None:
        return 0
    found = watchers(sim, bucket, operation_id)
    if not found:
        return 0
    op = catalog.BY_ID[operation_id]
    caller = _user(sim, access_key)
    agent = headers.get("user-agent", "")
    for project, tracker in found:
        sim.record(trace_input(
            sim, op, project, time_ms=arrival_ms, status=status,
            request_body=params or None, response_body=None,
            resource_id="%s/%s" % (bucket, key) if key else bucket,
            resource_name=key or bucket, request_id=request_id, source_ip=source_ip,
            user_agent=agent, user=caller,
            trace_type="ObsSDK" if agent.lower().startswith("obs-sdk") else "ObsAPI",
            tracker_name=tracker.name, event_type="data"), category="data")
    return len(found)


def _user(sim, access_key: str | None):
    if access_key is None:
        return None
    found = sim.directory.by_access_key(access_key)
    if found is None:
        return None
    user, cred = found
    return user_info(user, user.domain, access_key, temporary=cred.temporary,
                     session_created_ms=cred.created_at_ms)
