"""Accounts (domains), their projects and users, loaded from a TOML file."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from simulator.identity.secrets import MIN_PASSWORD

ROLES = ("admin", "developer", "auditor")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
DEFAULT_ACCOUNTS = Path(__file__).resolve().parents[1] / "data" / "accounts.toml"


class AccountsError(ValueError):
    pass


@dataclass(frozen=True)
class Domain:
    id: str
    name: str


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    region: str
    domain: Domain


@dataclass(frozen=True)
class Credential:
    access_key: str
    secret_key: str
    security_token: str | None = None  # set for temporary credentials
    expires_at_ms: int | None = None
    created_at_ms: int | None = None

    @property
    def temporary(self) -> bool:
        return self.security_token is not None


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: str
    domain: Domain
    password: str | None = None
    root: bool = False
    default: bool = False
    credentials: tuple[Credential, ...] = field(default=(), compare=False)

    @property
    def can_write(self) -> bool:
        return self.role in ("admin", "developer")


class Directory:
    """Read-only view of the accounts file, plus the temporary credentials issued at run time."""

    def __init__(self, domains, projects, users):
        self.domains: list[Domain] = domains
        self.projects: dict[str, Project] = {p.id: p for p in projects}
        self.users: list[User] = users
        self._by_ak: dict[str, tuple[User, Credential]] = {}
        self._secrets: set[str] = set()  # secret keys and security tokens, found by value
        self.changes = 0  # counts what was added at run time (a durable state's version)
        for user in users:
            for cred in user.credentials:
                if cred.access_key in self._by_ak:
                    raise AccountsError(f"access key {cred.access_key} is listed twice")
                self._by_ak[cred.access_key] = (user, cred)
                self._know(cred)
        self._know_passwords()

    # -- look-ups ------------------------------------------------------------------------------
    def by_access_key(self, ak: str) -> tuple[User, Credential] | None:
        return self._by_ak.get(ak)

    def merge(self, other: "Directory") -> dict:
        """Add the domains, projects and users of another directory that this one lacks (an
        id it knows must name the same thing, a new user's keys must be new). All or nothing:
        raises AccountsError before changing anything. Returns how many of each were added."""
        domains = [d for d in other.domains if self._new(self.domain(id=d.id), d, "domain")]
        projects = [p for p in other.projects.values()
                    if self._new(self.projects.get(p.id), p, "project")]
        users = [u for u in other.users if self._new(self.user_by_id(u.id), u, "user")]
        keys = [c.access_key for u in users for c in u.credentials]
        if any(k in self._by_ak for k in keys) or len(set(keys)) != len(keys):
            raise AccountsError("an access key of a new user is already known")
        for u in users:
            if self.user(u.name, domain_id=u.domain.id) is not None:
                raise AccountsError("user name %s is already taken in domain %s" % (
                    u.name, u.domain.id))
        self.domains.extend(domains)
        self.projects.update((p.id, p) for p in projects)
        self.users.extend(users)
        for u in users:
            for cred in u.credentials:
                self._by_ak[cred.access_key] = (u, cred)
                self._know(cred)
        self._know_passwords()
        self.changes += 1
        return {"domains": len(domains), "projects": len(projects), "users": len(users)}

    @staticmethod
    def _new(mine, theirs, kind: str) -> bool:
        if mine is None:
            return True
        if mine != theirs:
            raise AccountsError("%s %s is already known as %s" % (kind, theirs.id, mine.name))
        return False

    def add_key(self, user: User, cred: Credential) -> None:
        """A key issued at run time: temporary credentials, or a permanent key a user made."""
        self._by_ak[cred.access_key] = (user, cred)
        self._know(cred)
        self.changes += 1

    def __setstate__(self, state: dict) -> None:
        """From a snapshot, which may predate the secret look-ups: they are rebuilt."""
        self.__dict__.update(state)
        self._secrets = set()
        for _user, cred in self._by_ak.values():
            self._know(cred)
        self._know_passwords()

    def _know(self, cred: Credential) -> None:
        self._secrets.add(cred.secret_key)
        if cred.security_token:
            self._secrets.add(cred.security_token)

    def secret_values(self) -> set[str]:
        """Every secret key and security token of the accounts (identity/secrets.py)."""
        return self._secrets

    def passwords(self, domain_id: str) -> list[str]:
        """The passwords of one account's users long enough to be searched for in a text (an
        account's traces hide its own: hiding another's would tell its caller a guess was
        right)."""
        return self._passwords.get(domain_id, ())

    def _know_passwords(self) -> None:
        """Each password as it is and as JSON writes it inside a string (a quote or a backslash
        escaped), since traces hold bodies as JSON text."""
        forms: dict[str, set[str]] = {}
        for u in self.users:
            if u.password and len(u.password) >= MIN_PASSWORD:
                mine = forms.setdefault(u.domain.id, set())
                mine.add(u.password)
                mine.add(orjson.dumps(u.password).decode()[1:-1])
        # a longer one first: it may hold another
        self._passwords = {domain: sorted(found, key=len, reverse=True)
                           for domain, found in forms.items()}

    def user(self, name: str, domain_name: str | None = None, domain_id: str | None = None):
        for u in self.users:
            if u.name == name and (domain_name is None or u.domain.name == domain_name) and (
                    domain_id is None or u.domain.id == domain_id):
                return u
        return None

    def user_by_id(self, user_id: str) -> User | None:
        return next((u for u in self.users if u.id == user_id), None)

    def domain(self, name: str | None = None, id: str | None = None) -> Domain | None:
        for d in self.domains:
            if (name is None or d.name == name) and (id is None or d.id == id):
                return d
        return None

    def project(self, project_id: str) -> Project | None:
        return self.projects.get(project_id)

    def projects_of(self, domain: Domain, name: str | None = None) -> list[Project]:
        return [p for p in self.projects.values()
                if p.domain.id == domain.id and (name is None or p.name == name)]

    def home_project(self, domain: Domain, region: str) -> Project | None:
        found = self.projects_of(domain, region)
        return found[0] if found else None

    def default_user(self) -> User:
        for u in self.users:
            if u.default:
                return u
        admins = [u for u in self.users if u.role == "admin"]
        if not admins:
            raise AccountsError("the accounts file has no admin user")
        return admins[0]

    # -- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None) -> "Directory":
        path = Path(path) if path else DEFAULT_ACCOUNTS
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise AccountsError(f"cannot read accounts file {path}: {exc}") from exc
        return cls.from_mapping(data, str(path))

    @classmethod
    def from_mapping(cls, data: dict, origin: str = "accounts") -> "Directory":
        domains, projects, users = [], [], []
        for d in data.get("domains", []):
            domain = Domain(_hex_id(d, "id", origin), _need(d, "name", origin))
            domains.append(domain)
            for p in d.get("projects", []):
                projects.append(Project(_hex_id(p, "id", origin), _need(p, "name", origin),
                                        p.get("region", p["name"]), domain))
            for u in d.get("users", []):
                role = u.get("role", "developer")
                if role not in ROLES:
                    raise AccountsError(f"{origin}: user {u.get('name')} has unknown role {role}")
                creds = tuple(Credential(_need(c, "access_key", origin), _need(c, "secret_key", origin))
                              for c in u.get("credentials", []))
                users.append(User(_hex_id(u, "id", origin), _need(u, "name", origin), role, domain,
                                  u.get("password"), bool(u.get("root", False)),
                                  bool(u.get("default", False)), creds))
        if not domains:
            raise AccountsError(f"{origin}: no domains")
        return cls(domains, projects, users)

    def export(self) -> dict:
        """Everything the directory holds, as from_export reads it: the accounts as their file
        says them, and the keys issued at run time."""
        listed = {c.access_key for u in self.users for c in u.credentials}
        return {
            "domains": [{
                "id": d.id, "name": d.name,
                "projects": [{"id": p.id, "name": p.name, "region": p.region}
                             for p in self.projects_of(d)],
                "users": [{"id": u.id, "name": u.name, "role": u.role, "password": u.password,
                           "root": u.root, "default": u.default,
                           "credentials": [{"access_key": c.access_key,
                                            "secret_key": c.secret_key} for c in u.credentials]}
                          for u in self.users if u.domain.id == d.id]} for d in self.domains],
            "issued": [{"user_id": u.id, "access_key": c.access_key, "secret_key": c.secret_key,
                        "security_token": c.security_token, "expires_at_ms": c.expires_at_ms,
                        "created_at_ms": c.created_at_ms}
                       for ak, (u, c) in self._by_ak.items() if ak not in listed],
        }

    @classmethod
    def from_export(cls, data: dict) -> "Directory":
        try:
            directory = cls.from_mapping(data, "the saved accounts")
            for issued in data.get("issued", []):
                user = directory.user_by_id(issued["user_id"])
                if user is None:
                    raise AccountsError("a key of an unknown user %s" % issued["user_id"])
                directory.add_key(user, Credential(
                    issued["access_key"], issued["secret_key"], issued["security_token"],
                    issued["expires_at_ms"], issued["created_at_ms"]))
        except (KeyError, TypeError, AttributeError) as exc:
            raise AccountsError("the saved accounts are damaged: %s" % exc) from None
        directory.changes = 0
        return directory

    def describe(self) -> dict:
        """The accounts as `modelarts-sim accounts --json` prints them."""
        out = []
        for d in self.domains:
            out.append({
                "domain": {"id": d.id, "name": d.name},
                "projects": [{"id": p.id, "name": p.name, "region": p.region}
                             for p in self.projects_of(d)],
                "users": [{"id": u.id, "name": u.name, "role": u.role,
                           "password": u.password,
                           "credentials": [{"access_key": c.access_key, "secret_key": c.secret_key}
                                           for c in u.credentials if not c.temporary]}
                          for u in self.users if u.domain.id == d.id],
            })
        return {"domains": out}


def _need(table: dict, key: str, origin: str):
    if key not in table or table[key] in ("", None):
        raise AccountsError(f"{origin}: missing {key!r} in {table}")
    return table[key]


def _hex_id(table: dict, key: str, origin: str) -> str:
    value = str(_need(table, key, origin))
    if not _HEX32.match(value):
        raise AccountsError(f"{origin}: {key} {value!r} must be 32 lower-case hex characters")
    return value
