"""Every knob of the simulator, from defaults < TOML file < environment < command line.

Each field is also an environment variable ``MODELARTS_SIM_<FIELD>`` (upper case) and a key of
the TOML file given with ``--config``; tables in the file (``[lifecycle]``) hold the dwell times.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PORT = 9550
AUTH_MODES = ("strict", "lenient", "off")
# the deepest JSON the record's encoder (orjson) writes: a body, or an answer that holds it,
# nested deeper could be applied and then fail to be traced
MAX_ENCODABLE_DEPTH = 254
# how asynchronous steps move: on the clock, at once, or only when /_sim/lifecycle/advance says
LIFECYCLE_MODES = ("time", "immediate", "manual")
ENV_PREFIX = "MODELARTS_SIM_"
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")  # an OBS bucket name


class SettingsError(ValueError):
    pass


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: str | None = None  # None: everything in memory
    auth: str = "strict"
    region: str = "cn-north-4"
    accounts: str | None = None  # None: the packaged fixtures/accounts.toml
    tracing: bool = True  # off only for benchmarks that measure what tracing costs
    threads: int = 8
    seed: int | None = None
    # start from this snapshot (/_sim/snapshot's file), then run the init hooks in init_dir
    # (docs/state.md), before the server answers
    snapshot: str | None = None
    init_dir: str | None = None
    trace_retention_days: int = 7
    signature_max_skew_s: int = 900
    token_ttl_s: int = 86400
    incident_min_status: int = 500  # a response at or above this status is rated "incident"
    warning_min_status: int = 400
    # a simulator choice (the API reference gives no limit): a JSON body nested deeper than this
    # is refused with the family's bad-body 400 before any handler runs. The record's encoder
    # stops at 254 levels, and answers nest a stored value a few levels deeper than it came in
    max_body_depth: int = 64
    # who may use /_sim besides this machine's loopback and the bound address (Host names), and
    # which web origins besides the simulator's own (simulator/admin/guard.py); a choice
    allowed_hosts: list[str] = field(default_factory=list)
    allowed_origins: list[str] = field(default_factory=list)
    # when set, every /_sim call must carry it in X-Sim-Admin-Token; `serve` bound to an address
    # that is not loopback makes one (and prints it) when none is given
    admin_token: str | None = None
    trust_forwarded_for: bool = False  # take source_ip from X-Forwarded-For (behind a proxy)
    # OBS buckets every simulator starts with (and has again after a reset): the buckets a
    # team's datasets and jobs read from; TOML list, or comma-separated in the environment
    obs_buckets: list[str] = field(default_factory=list)
    transfer_period_s: float = 300  # how often trackers write trace files, simulation seconds
    trace_file_code: str = "string"  # "code" in trace files: string (newer docs) or int (older)
    trace_file_user: str = "object"  # "user" in trace files: object (newer) or string (JSON)
    # key event notifications: {"topics": {topic URN or name: webhook URL}, "attempts": 4,
    # "backoff_s": 0.5} (the TOML table [notifications] and [notifications.topics])
    notifications: dict = field(default_factory=dict)
    lifecycle_mode: str = "time"  # time | immediate | manual, for every family at start
    # dwell-time overrides, seconds by name (each family declares its names and defaults)
    lifecycle: dict[str, float] = field(default_factory=dict)
    # trace-name overrides: catalog operation id or trace name -> the name to record instead
    # (for inferred names, when a user learns the real one)
    trace_names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        if self.auth not in AUTH_MODES:
            raise SettingsError(f"auth must be one of {', '.join(AUTH_MODES)}, not {self.auth!r}")
        if not (0 <= int(self.port) <= 65535):
            raise SettingsError(f"port must be 0..65535, not {self.port}")
        if self.threads < 1:
            raise SettingsError("threads must be at least 1")
        if not 1 <= int(self.max_body_depth) <= MAX_ENCODABLE_DEPTH - 8:
            raise SettingsError("max_body_depth must be 1 to %d (what a trace record can hold)"
                                % (MAX_ENCODABLE_DEPTH - 8))
        if float(self.transfer_period_s) < 1:
            raise SettingsError("transfer_period_s must be at least 1 second")
        if self.trace_file_code not in ("string", "int"):
            raise SettingsError("trace_file_code must be string or int")
        if self.trace_file_user not in ("object", "string"):
            raise SettingsError("trace_file_user must be object or string")
        for name, seconds in self.lifecycle.items():
            if float(seconds) < 0:
                raise SettingsError(f"lifecycle.{name} must not be negative")
        for name in self.obs_buckets:
            if not BUCKET.match(name):
                raise SettingsError(f"obs_buckets: {name!r} is not a bucket name (3-63 "
                                    "lower-case letters, digits, dots and hyphens)")
        if self.lifecycle_mode not in LIFECYCLE_MODES:
            raise SettingsError("lifecycle_mode must be %s or %s" % (
                ", ".join(LIFECYCLE_MODES[:-1]), LIFECYCLE_MODES[-1]))

    @property
    def data_path(self) -> Path | None:
        return Path(self.data_dir) if self.data_dir else None

    @classmethod
    def load(cls, overrides: dict | None = None, env: dict | None = None,
             config: str | None = None) -> "Settings":
        """Build settings from a TOML file, the environment and explicit overrides (CLI)."""
        env = os.environ if env is None else env
        values: dict = {}
        config = config or env.get(ENV_PREFIX + "CONFIG")
        if config:
            try:
                with open(config, "rb") as fh:
                    values.update(tomllib.load(fh))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise SettingsError(f"cannot read config file {config}: {exc}") from exc
        for f in dataclasses.fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and f.name not in ("lifecycle", "trace_names", "notifications"):
                values[f.name] = raw
        for key, value in (overrides or {}).items():
            if value is not None:
                values[key] = value
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: dict) -> "Settings":
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
        kwargs = {}
        for name, value in values.items():
            kwargs[name] = _coerce(name, known[name], value)
        return cls(**kwargs)


def _notifications(value) -> dict:
    if not isinstance(value, dict) or set(value) - {"topics", "attempts", "backoff_s"}:
        raise SettingsError("notifications is a table of topics, attempts and backoff_s")
    topics = value.get("topics", {})
    if not isinstance(topics, dict) or not all(
            isinstance(u, str) and u.startswith(("http://", "https://")) for u in topics.values()):
        raise SettingsError("notifications.topics maps topic URNs or names to http(s) URLs")
    attempts, backoff = int(value.get("attempts", 4)), float(value.get("backoff_s", 0.5))
    if attempts < 1 or backoff < 0:
        raise SettingsError("notifications.attempts must be at least 1 and backoff_s not "
                            "negative")
    return {"topics": {str(k): v for k, v in topics.items()}, "attempts": attempts,
            "backoff_s": backoff}


def _coerce(name, f, value):
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if name == "trace_names":
            if not isinstance(value, dict):
                raise SettingsError("trace_names must be a table of names")
            return {str(k): str(v) for k, v in value.items()}
        if name == "notifications":
            return _notifications(value)
        if name in ("obs_buckets", "allowed_hosts", "allowed_origins"):
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise SettingsError("%s must be a list of names" % name)
            return list(dict.fromkeys(value))
        if name == "lifecycle":
            if not isinstance(value, dict):
                raise SettingsError("lifecycle must be a table of dwell times")
            return {str(k): float(v) for k, v in value.items()}
        if kind.startswith("bool"):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise SettingsError(f"{name} must be true or false, not {value!r}")
        if kind.startswith("int"):
            if value == "" and "None" in kind:
                return None
            return int(value)
        if kind.startswith("str"):
            return None if value in ("", None) else str(value)
        return value
    except (TypeError, ValueError) as exc:
        if isinstance(exc, SettingsError):
            raise
        raise SettingsError(f"{name}: {exc}") from exc
