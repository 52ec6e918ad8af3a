"""CTS trackers, key event notifications and bucket checks.

Trace files in OBS come with the simulator's OBS; until then a project has no tracker and no
notification, so the lists are empty and every call that would need OBS or SMN answers the
documented CTS.0001 ("IAM or OBS service abnormal") with a message saying what is missing.
"""

from __future__ import annotations

from simulator.errors import ApiError
from simulator.registry import Reply, handler

_UNAVAILABLE = ("OBS is not simulated yet: trackers, notifications and trace files arrive with "
                "it. Traces are recorded and served by ListTraces meanwhile.")


def _unavailable():
    return ApiError(400, "CTS.0001", _UNAVAILABLE)


@handler("CreateTracker")
def create_tracker(ctx):
    raise _unavailable()


@handler("UpdateTracker")
def update_tracker(ctx):
    raise _unavailable()


@handler("ListTrackers")
def list_trackers(ctx):
    return Reply(200, {"trackers": []})


@handler("DeleteTracker")
def delete_tracker(ctx):
    raise ApiError(404, "CTS.0214", "The tracker does not exist.")


@handler("CreateNotification")
def create_notification(ctx):
    raise _unavailable()


@handler("UpdateNotification")
def update_notification(ctx):
    raise _unavailable()


@handler("ListNotifications")
def list_notifications(ctx):
    kind = ctx.params.get("notification_type")
    if kind not in ("smn", "fun"):
        raise ApiError(400, "CTS.0300", "Query failed: notification_type must be smn or fun.")
    return Reply(200, {"notifications": []})


@handler("DeleteNotification")
def delete_notification(ctx):
    raise ApiError(400, "CTS.0001", "No such notification: " + _UNAVAILABLE)


@handler("CheckObsBuckets")
def check_obs_buckets(ctx):
    raise _unavailable()


def _tracker_tags(ctx):
    if ctx.params.get("resource_type") != "cts-tracker":
        raise ApiError(400, "CTS.0300", "Query failed: resource_type must be cts-tracker.")
    raise ApiError(404, "CTS.0214", "The tracker does not exist.")


@handler("BatchCreateResourceTags")
def batch_create_resource_tags(ctx):
    return _tracker_tags(ctx)


@handler("BatchDeleteResourceTags")
def batch_delete_resource_tags(ctx):
    return _tracker_tags(ctx)
