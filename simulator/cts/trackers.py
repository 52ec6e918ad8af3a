"""CTS trackers (shared/reference/cts-and-auth.md section 2.2), bucket checks and tracker tags;
the project's CTS state (notifications are in cts/notifications.py).

A project holds at most one management tracker, named `system`, and up to 100 data trackers.
A tracker with an OBS bucket has its traces written there as files (cts/delivery.py): `cursor`
is the store position of the last trace delivered, so nothing recorded after the tracker was
enabled is skipped, whatever happens to the bucket meanwhile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from simulator.cts import digests
from simulator.obs import access
from simulator.errors import ApiError
from simulator.registry import Reply, handler
from simulator.settings import BUCKET

FAMILY = "cts"
SYSTEM = "system"
DATA_TRACKER_QUOTA = 100
_PREFIX = re.compile(r"^[A-Za-z0-9._-]{0,64}$")
_DATA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


@dataclass
class Tracker:
    id: str
    name: str
    type: str  # system | data
    created_ms: int
    obs_info: dict | None
    is_support_validate: bool
    is_lts_enabled: bool
    agency_name: str | None
    is_organization_tracker: bool
    exclude_service: list
    data_bucket: dict | None  # {data_bucket_name, data_event}
    status: str = "enabled"  # enabled | disabled; "error" is reported, never stored
    cursor: int = 0  # store position (seq) of the last trace delivered
    next_transfer_ms: int = 0
    missing_bucket: bool = False  # the last transfer found no bucket
    hold_until_ms: int = 0  # an injected delivery delay: no upload before then
    # digests (is_support_validate): the next hour to account for, the files of each
    # (hour, service) not yet in a digest, the services seen, each service's last digest
    digest_hour_ms: int | None = None
    digest_files: dict = field(default_factory=dict)
    digest_services: set = field(default_factory=set)
    digest_last: dict = field(default_factory=dict)


@dataclass
class State:
    """A project's CTS resources: trackers by name, key event notifications by id."""
    trackers: dict[str, Tracker] = field(default_factory=dict)
    notifications: dict = field(default_factory=dict)


def _bad_body(message: str) -> ApiError:
    return ApiError(400, "CTS.0003", "The message body is empty or invalid: " + message)


# -- the body ------------------------------------------------------------------------------

def _flag(body: dict, name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise _bad_body("%s must be true or false" % name)
    return value


def _obs_info(ctx, raw, tracker_type: str) -> dict | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _bad_body("obs_info must be an object")
    bucket = raw.get("bucket_name")
    if not isinstance(bucket, str) or not BUCKET.match(bucket) or ".." in bucket:
        raise ApiError(400, "CTS.0231", "Invalid bucket name: 3 to 63 lower-case letters, "
                       "digits, hyphens and periods, starting and ending with a letter or "
                       "digit.")
    prefix = raw.get("file_prefix_name", "")
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise ApiError(400, "CTS.0218", "Invalid file_prefix_name: up to 64 letters, digits, "
                       "periods, hyphens and underscores.")
    compress = raw.get("compress_type", "gzip")
    if compress not in ("gzip", "json"):
        raise _bad_body("obs_info.compress_type must be gzip or json")
    lifecycle = raw.get("bucket_lifecycle")
    if lifecycle is not None and (not isinstance(lifecycle, int) or isinstance(lifecycle, bool)
                                  or lifecycle < 1):
        raise _bad_body("obs_info.bucket_lifecycle must be a positive number of days")
    return {"bucket_name": bucket, "file_prefix_name": prefix,
            "is_obs_created": _flag(raw, "is_obs_created"),
            "bucket_lifecycle": lifecycle if lifecycle is not None else 30,
            "compress_type": compress,
            "is_sort_by_service": _flag(raw, "is_sort_by_service", True)}


def _data_bucket(raw) -> dict:
    if not isinstance(raw, dict) or not raw.get("data_bucket_name"):
        raise ApiError(400, "CTS.0210", "The tracked OBS bucket cannot be empty.")
    if not isinstance(raw["data_bucket_name"], str) or not BUCKET.match(raw["data_bucket_name"]):
        raise ApiError(400, "CTS.0231", "Invalid bucket name: %r." % (raw["data_bucket_name"],))
    events = raw.get("data_event", [])
    if not isinstance(events, list) or not events:
        raise ApiError(400, "CTS.0219", "The operation type cannot be empty.")
    if any(e not in ("READ", "WRITE") for e in events) or len(set(events)) != len(events):
        raise ApiError(400, "CTS.0225", "Only WRITE and READ operations can be tracked on a "
                       "bucket.")
    return {"data_bucket_name": raw["data_bucket_name"],
            "data_event": [e for e in ("READ", "WRITE") if e in events]}


def _bucket_exists(ctx, name: str) -> bool:
    """Whether the caller's account has the bucket. Another account's bucket is answered as
    one that does not exist (a simulator choice: CTS documents no code of its own for it), so
    a tracker neither watches nor writes into a bucket its account does not own."""
    return access.bucket_owner(ctx.sim, name) == _domain_id(ctx)


def _domain_id(ctx) -> str:
    return ctx.project.domain.id if ctx.project is not None else ctx.caller.user.domain.id


def _make_bucket(ctx, info: dict) -> None:
    """The transfer bucket: created when asked (is_obs_created), else it must exist."""
    if info["is_obs_created"]:
        if ctx.sim.obs_files.has_bucket(info["bucket_name"]):  # bucket names are global
            raise ApiError(400, "CTS.0215", "The OBS bucket %s already exists."
                           % info["bucket_name"])
        ctx.sim.obs_files.make_bucket(info["bucket_name"], owner=_domain_id(ctx))
    elif not _bucket_exists(ctx, info["bucket_name"]):
        raise ApiError(400, "CTS.0211", "The OBS bucket %s does not exist." % info["bucket_name"])


def _type_and_name(body: dict) -> tuple[str, str]:
    kind = body.get("tracker_type")
    if kind not in (SYSTEM, "data"):
        raise ApiError(400, "CTS.0202", "tracker_type must be system or data.")
    name = body.get("tracker_name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "CTS.0203", "tracker_name is required.")
    if kind == SYSTEM and name != SYSTEM:
        raise ApiError(400, "CTS.0204", "The management tracker can only be named system.")
    if kind == "data" and (name == SYSTEM or not _DATA_NAME.match(name)):
        raise ApiError(400, "CTS.0203", "Invalid tracker_name: 1 to 32 letters, digits, "
                       "hyphens and underscores, not starting with a hyphen or underscore, "
                       "and not system.")
    return kind, name


def _body(ctx) -> dict:
    if not isinstance(ctx.body, dict):
        raise _bad_body("a JSON object is expected")
    return ctx.body


def _check_data_bucket(ctx, state: State, data: dict, name: str, info: dict | None) -> None:
    if not _bucket_exists(ctx, data["data_bucket_name"]):
        raise ApiError(400, "CTS.0211", "The tracked OBS bucket %s does not exist."
                       % data["data_bucket_name"])
    if info and info["bucket_name"] == data["data_bucket_name"]:
        raise ApiError(400, "CTS.0213", "The transfer bucket cannot be the tracked bucket.")
    for other in state.trackers.values():
        if other.name == name or not other.data_bucket:
            continue
        if other.data_bucket["data_bucket_name"] == data["data_bucket_name"] and set(
                other.data_bucket["data_event"]) & set(data["data_event"]):
            raise ApiError(400, "CTS.0209", "An operation type of bucket %s is tracked by "
                           "tracker %s already." % (data["data_bucket_name"], other.name))


# -- handlers --------------------------------------------------------------------------------

@handler("CreateTracker")
def create_tracker(ctx):
    body = _body(ctx)
    kind, name = _type_and_name(body)
    state: State = ctx.state
    if kind == SYSTEM and SYSTEM in state.trackers:
        raise ApiError(400, "CTS.0201", "A management tracker already exists.")
    if name in state.trackers:
        raise ApiError(400, "CTS.0208", "The tracker %s already exists." % name)
    if kind == "data" and sum(t.type == "data" for t in state.trackers.values()) \
            >= DATA_TRACKER_QUOTA:
        raise ApiError(400, "CTS.0200", "The tracker quota has been reached.")
    if kind == SYSTEM and "data_bucket" in body:
        raise ApiError(400, "CTS.0206", "A management tracker takes no data_bucket.")
    info = _obs_info(ctx, body.get("obs_info"), kind)
    data = _data_bucket(body.get("data_bucket")) if kind == "data" else None
    if data:
        _check_data_bucket(ctx, state, data, name, info)
    if info:
        _make_bucket(ctx, info)
    tracker = Tracker(
        id=ctx.ids.uuid(), name=name, type=kind, created_ms=ctx.now_ms, obs_info=info,
        is_support_validate=_flag(body, "is_support_validate"),
        is_lts_enabled=_flag(body, "is_lts_enabled"), agency_name=body.get("agency_name"),
        is_organization_tracker=_flag(body, "is_organization_tracker"),
        exclude_service=_excluded(body), data_bucket=data)
    _enable(ctx, tracker)
    if tracker.is_support_validate:
        digests.start(tracker, ctx.now_ms)
    state.trackers[name] = tracker
    return Reply(201, describe(ctx, tracker), tracker.id, tracker.name)


@handler("UpdateTracker")
def update_tracker(ctx):
    body = _body(ctx)
    kind, name = _type_and_name(body)
    state: State = ctx.state
    tracker = state.trackers.get(name)
    if tracker is None or tracker.type != kind:  # its trace names the tracker asked for
        raise ApiError(404, "CTS.0214", "The tracker %s does not exist." % name,
                       resource_name=name)
    # everything is checked before anything changes: a refusal leaves the tracker as it was
    status = body.get("status", tracker.status)
    if status not in ("enabled", "disabled"):
        raise ApiError(400, "CTS.0205", "status must be enabled or disabled.")
    info = _obs_info(ctx, body["obs_info"], kind) if "obs_info" in body else tracker.obs_info
    data = tracker.data_bucket
    if kind == "data" and "data_bucket" in body:
        data = _data_bucket(body["data_bucket"])
        if data["data_bucket_name"] != tracker.data_bucket["data_bucket_name"]:
            raise ApiError(400, "CTS.0212", "The tracked bucket cannot be changed.")
        _check_data_bucket(ctx, state, data, name, info)
    flags = {flag: _flag(body, flag) for flag in ("is_support_validate", "is_lts_enabled",
                                                  "is_organization_tracker") if flag in body}
    excluded = _excluded(body) if "management_event_selector" in body \
        else tracker.exclude_service
    if info and (tracker.obs_info is None
                 or info["bucket_name"] != tracker.obs_info["bucket_name"]):
        _make_bucket(ctx, info)
    validating = tracker.is_support_validate
    tracker.obs_info, tracker.data_bucket, tracker.exclude_service = info, data, excluded
    for flag, value in flags.items():
        setattr(tracker, flag, value)
    if tracker.is_support_validate and not validating:
        digests.start(tracker, ctx.now_ms)
    if "agency_name" in body:
        tracker.agency_name = body["agency_name"]
    if status == "enabled" and tracker.status == "disabled":
        _enable(ctx, tracker)
    tracker.status = status
    return Reply(200, None, tracker.id, tracker.name)


@handler("ListTrackers")
def list_trackers(ctx):
    state: State = ctx.state
    name, kind = ctx.query.get("tracker_name"), ctx.query.get("tracker_type")
    if kind is not None and kind not in (SYSTEM, "data"):
        raise ApiError(400, "CTS.0202", "tracker_type must be system or data.")
    found = [t for t in state.trackers.values()
             if (name is None or t.name == name) and (kind is None or t.type == kind)]
    found.sort(key=lambda t: (t.type != SYSTEM, t.created_ms, t.name))
    return Reply(200, {"trackers": [describe(ctx, t, listing=True) for t in found]})


@handler("DeleteTracker")
def delete_tracker(ctx):
    state: State = ctx.state
    name = ctx.query.get("tracker_name")
    kind = ctx.query.get("tracker_type") or "data"
    if kind not in (SYSTEM, "data"):
        raise ApiError(400, "CTS.0202", "tracker_type must be system or data.")
    if name is None:  # without a name: every data tracker
        doomed = [t for t in state.trackers.values() if t.type == "data"] if kind == "data" \
            else []
    else:
        tracker = state.trackers.get(name)
        doomed = [tracker] if tracker is not None and tracker.type == kind else []
    if not doomed:  # its trace names the tracker asked for
        raise ApiError(404, "CTS.0214", "The tracker %s does not exist." % (name or "(data)"),
                       resource_name=name)
    for tracker in doomed:
        del state.trackers[tracker.name]
    return Reply(204, None, resources=[(t.id, t.name) for t in doomed])


def _bucket_check(owner: str | None, domain_id: str) -> dict:
    """What OBS answered CTS's look-up of a bucket, made as the caller: another account's
    bucket is refused as OBS refuses it."""
    if owner == domain_id:
        return {"success": True, "response_code": 200, "error_code": None,
                "error_message": None}
    if owner is None:
        return {"success": False, "response_code": 404, "error_code": "NoSuchBucket",
                "error_message": "The specified bucket does not exist"}
    return {"success": False, "response_code": 403, "error_code": "AccessDenied",
            "error_message": "Access Denied"}


@handler("CheckObsBuckets")
def check_obs_buckets(ctx):
    body = _body(ctx)
    buckets = body.get("buckets")
    if not isinstance(buckets, list) or not buckets or not all(isinstance(b, dict)
                                                               for b in buckets):
        raise _bad_body("buckets must be a list of objects")
    out = []
    for entry in buckets:
        name = entry.get("bucket_name")
        owner = access.bucket_owner(ctx.sim, name) if isinstance(name, str) else None
        out.append({**{k: entry.get(k) for k in ("bucket_name", "bucket_location", "kms_id",
                                                 "is_support_trace_files_encryption")},
                    "check_bucket_response": _bucket_check(owner, _domain_id(ctx))})
    return Reply(200, {"buckets": out})


def _excluded(body: dict) -> list:
    selector = body.get("management_event_selector")
    if selector is None:
        return []
    excluded = selector.get("exclude_service", []) if isinstance(selector, dict) else None
    if not isinstance(excluded, list) or any(s != "KMS" for s in excluded):
        raise _bad_body("management_event_selector.exclude_service may only hold KMS")
    return excluded


def _enable(ctx, tracker: Tracker) -> None:
    """From now on: every trace recorded after this instant is delivered."""
    tracker.cursor = ctx.sim.traces.last_seq()
    tracker.next_transfer_ms = ctx.sim.delivery.next_boundary(ctx.now_ms)
    tracker.missing_bucket = False


def describe(ctx, tracker: Tracker, listing: bool = False) -> dict:
    project = ctx.project
    status = tracker.status
    out = {
        "id": tracker.id, "create_time": tracker.created_ms, "kms_id": None,
        "is_support_validate": tracker.is_support_validate,
        "is_organization_tracker": tracker.is_organization_tracker,
        "management_event_selector": {"exclude_service": tracker.exclude_service},
        "lts": {"is_lts_enabled": tracker.is_lts_enabled, "log_group_name": "CTS",
                "log_topic_name": "system-trace" if tracker.type == SYSTEM else tracker.name},
        "tracker_type": tracker.type, "domain_id": project.domain.id,
        "project_id": project.id, "tracker_name": tracker.name,
        "agency_name": tracker.agency_name, "status": status,
        "is_support_trace_files_encryption": False,
        "obs_info": None if tracker.obs_info is None else {
            **tracker.obs_info, "is_authorized_bucket": True, "bucket_location": ""},
    }
    if status == "enabled" and tracker.missing_bucket:
        out["status"], out["detail"] = "error", "noBucket"
    if tracker.data_bucket is not None:
        out["data_bucket"] = {**tracker.data_bucket, "search_enabled": True}
    if listing:
        out["group_id"] = out["stream_id"] = None
    return out


def _tracker_tags(ctx):
    if ctx.params.get("resource_type") != "cts-tracker":
        raise ApiError(400, "CTS.0300", "Query failed: resource_type must be cts-tracker.")
    state: State = ctx.state
    if not any(t.id == ctx.params.get("resource_id") for t in state.trackers.values()):
        raise ApiError(404, "CTS.0214", "The tracker does not exist.")
    return Reply(204, None)


@handler("BatchCreateResourceTags")
def batch_create_resource_tags(ctx):
    return _tracker_tags(ctx)


@handler("BatchDeleteResourceTags")
def batch_delete_resource_tags(ctx):
    return _tracker_tags(ctx)
