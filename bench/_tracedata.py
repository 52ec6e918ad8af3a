"""A realistic population of stored CTS traces, built with simulator.cts.record.build.

Acme's two projects (85% / 15% of the traffic), twelve users of skewed activity (the three
fixture users and nine more), one or two access keys each plus token calls (no access key),
every audited ModelArts operation of the catalog weighted by how busy its family is, a few
thousand resources per type with a hot few, about 6% warnings and 0.5% incidents, and an
enterprise project per resource. Times are spread over `span_ms` up to `end_ms`, oldest first,
as a live server appends them.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from simulator import catalog
from simulator.cts.record import TraceInput, build, user_info
from simulator.identity.accounts import Domain, User

DOMAIN = Domain("f3c95789ace1a9542c5d6baed2eac902", "acme")
PROJECTS = (("cbf27734ac1035250b66402800e03d2c", 0.85), ("e0a3a91f2346cc13fc27ed12b10877a9", 0.15))
FIXTURE_USERS = (  # name, id, role, access key (tests/helpers.py)
    ("admin", "f1260ebc7d56ab567714dc919b27dbdf", "admin", "EA9DJ2SB8WQEE7QK29UO"),
    ("developer", "6caf76a5703598aec280ad3729a6f2e7", "developer", "QQRXI6VBTCJBS73Z4Z61"),
    ("auditor", "3f0c9931918c40bfd670c342c6cce996", "auditor", "NUMLHM5ZME0K1Y5G3C40"),
)
MORE_USERS = ("ml-pipeline", "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
# how busy each family of the catalog is (a family not listed here weighs DEFAULT_WEIGHT)
FAMILY_WEIGHT = {"datasets": 40, "training_jobs": 10, "training_v2": 10, "notebooks": 8,
                 "devenviron": 4, "services": 6, "services_v2": 6, "models": 8,
                 "visualization_jobs": 3, "training_configs": 3, "clusters": 2, "pools": 2,
                 "conversions": 2, "authorizations": 2}
DEFAULT_WEIGHT = 2
# resources per resource type (a type not listed here has DEFAULT_RESOURCES)
RESOURCES_PER_TYPE = {"dataset": 3000, "ModelArtsTrainJob": 1500, "JobV2": 1500, "model": 1500,
                      "Notebook": 600, "service": 400, "serviceV2": 300,
                      "ModelArtsTensorboardJob": 300, "convert": 300,
                      "ModelArtsTrainConfig": 200, "cluster": 20, "Pool": 20}
DEFAULT_RESOURCES = 300
ENTERPRISE_PROJECTS = ("0",) * 8 + ("4c7b3bbe-0d5e-4d7e-9b2e-0c8bc6e4a1f1",
                                    "9a2f1d7e-3c4b-4e8a-8f61-5d2b7c9e0a34")
USER_AGENTS = ("huaweicloud-usdk-python/3.0", "ModelArts-SDK/1.4.2 python/3.10",
               "Mozilla/5.0 (console.huaweicloud.com)")
WARNING_SHARE, INCIDENT_SHARE, TOKEN_SHARE = 0.06, 0.005, 0.15


@dataclass(frozen=True)
class Actor:
    name: str
    weight: float
    access_keys: tuple[str, ...]
    infos: dict  # access key ("" for a token) -> the trace's user object
    ips: tuple[str, ...]
    writes: bool


@dataclass(frozen=True)
class Resource:
    id: str
    name: str
    enterprise_project_id: str


class Population:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.actors = self._actors()
        self.actor_weights = [a.weight for a in self.actors]
        self.ops = [op for op in catalog.OPERATIONS if op.traced and op.method]
        self.op_weights = self._op_weights()
        self.resources = {rtype: self._resources(rtype, RESOURCES_PER_TYPE.get(rtype,
                                                                                DEFAULT_RESOURCES))
                          for rtype in sorted({op.resource_type for op in self.ops})}

    # -- the fixed parts ---------------------------------------------------------------------------
    def _hex(self, n: int) -> str:
        return format(self.rng.getrandbits(n * 4), "0%dx" % n)

    def _access_key(self) -> str:
        return "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(20))

    def _actors(self) -> list[Actor]:
        rows = [(name, uid, role, (ak,)) for name, uid, role, ak in FIXTURE_USERS]
        rows += [(name, self._hex(32), "developer",
                  tuple(self._access_key() for _ in range(self.rng.choice((1, 2)))))
                 for name in MORE_USERS]
        actors = []
        for rank, (name, uid, role, keys) in enumerate(rows, 1):
            user = User(id=uid, name=name, role=role, domain=DOMAIN)
            infos = {ak: user_info(user, DOMAIN, ak) for ak in keys}
            infos[""] = user_info(user, DOMAIN, None)
            weight = 0.4 if role == "auditor" else 1 / rank ** 0.9  # a few do most of the work
            ips = tuple("10.%d.%d.%d" % (rank, self.rng.randrange(256), self.rng.randrange(1, 255))
                        for _ in range(3))
            actors.append(Actor(name, weight, keys, infos, ips, role != "auditor"))
        return actors

    def _op_weights(self) -> list[float]:
        per_family: dict[str, int] = {}
        for op in self.ops:
            per_family[op.family] = per_family.get(op.family, 0) + 1
        return [FAMILY_WEIGHT.get(op.family, DEFAULT_WEIGHT) / per_family[op.family]
                for op in self.ops]

    def _resource_id(self, rtype: str) -> str:
        if rtype == "dataset":
            return "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789") for _ in range(19))
        if rtype in ("ModelArtsTrainJob", "ModelArtsTensorboardJob", "cluster"):
            return str(self.rng.randrange(10_000, 9_999_999))
        if rtype == "ModelArtsTrainConfig":
            return "config-%s" % self._hex(8)
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _resources(self, rtype: str, n: int) -> list[Resource]:
        return [Resource(self._resource_id(rtype), "%s-%s" % (rtype.lower()[:8], self._hex(6)),
                         self.rng.choice(ENTERPRISE_PROJECTS)) for _ in range(n)]

    # -- one trace ---------------------------------------------------------------------------------
    def _pick_resource(self, rtype: str) -> Resource:
        pool = self.resources[rtype]
        # a hot tenth of the resources gets half of the calls
        if self.rng.random() < 0.5:
            return pool[self.rng.randrange(max(1, len(pool) // 10))]
        return pool[self.rng.randrange(len(pool))]

    def _outcome(self, actor: Actor, op) -> tuple[int, str | None]:
        if not actor.writes and not op.read_only:
            return 403, "ModelArts.0108"
        roll = self.rng.random()
        if roll < INCIDENT_SHARE:
            return 500, "ModelArts.0050"
        if roll < INCIDENT_SHARE + WARNING_SHARE:
            return 400, "ModelArts.4396"
        return (204 if op.method == "DELETE" else 201 if op.operation_id.startswith("Create")
                else 200), None

    @staticmethod
    def _bodies(op, res: Resource, status: int, error_code: str | None):
        request = None
        if op.method in ("POST", "PUT"):
            request = {"name": res.name, "description": "changed by the nightly pipeline",
                       "config": {"flavor": "modelarts.vm.cpu.2u", "count": 1}}
        if error_code:
            return request, {"error_code": error_code, "error_msg": "refused by the simulator"}
        if status == 204:
            return request, None
        return request, {"id": res.id, "name": res.name, "status": "running"}

    def trace(self, time_ms: int) -> dict:
        rng = self.rng
        actor = rng.choices(self.actors, self.actor_weights)[0]
        op = rng.choices(self.ops, self.op_weights)[0]
        res = self._pick_resource(op.resource_type)
        status, error_code = self._outcome(actor, op)
        ak = "" if rng.random() < TOKEN_SHARE else rng.choice(actor.access_keys)
        request, response = self._bodies(op, res, status, error_code)
        project_id = PROJECTS[0][0] if rng.random() < PROJECTS[0][1] else PROJECTS[1][0]
        return build(TraceInput(
            trace_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            trace_name=op.trace_name, resource_type=op.resource_type,
            operation_id=op.operation_id, api_version=op.api_version, read_only=op.read_only,
            service_type=op.service_type, project_id=project_id, domain_id=DOMAIN.id,
            time_ms=time_ms, record_time_ms=time_ms + rng.randrange(5, 80), status=status,
            request_body=request, response_body=response, resource_id=res.id,
            resource_name=res.name, request_id=format(rng.getrandbits(128), "032x"),
            source_ip=rng.choice(actor.ips), user_agent=rng.choice(USER_AGENTS),
            user=actor.infos[ak], error_code=error_code,
            enterprise_project_id=res.enterprise_project_id))

    def times(self, count: int, end_ms: int, span_ms: int) -> list[int]:
        """`count` instants in (end_ms - span_ms, end_ms], oldest first."""
        start = end_ms - span_ms
        return sorted(start + 1 + self.rng.randrange(span_ms) for _ in range(count))
