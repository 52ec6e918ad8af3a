"""The organisation a synthetic dataset is about: one account (domain) with a project per team,
and the people and robots who work in it, drawn once from Faker with the run's seed.

Each persona has what a detection rule keys on: an IAM identity with a permanent AK/SK, the
networks it calls from, the client it uses (SDK, CLI or console), and a time zone with
working hours. Everything here is fixed before the first call is made.
"""

from __future__ import annotations

import hashlib
import ipaddress
import random
from dataclasses import dataclass, field

from faker import Faker

from simulator.identity.accounts import Credential, Directory, Domain, Project, User

# persona role -> the simulator's IAM role (admin and developer write; auditor only reads)
ROLES = {"admin": "admin", "ml-engineer": "developer", "data-labeller": "developer",
         "auditor": "auditor", "ci-robot": "developer"}
# (office locale, country code, UTC offset in hours): a team sits in one office
OFFICES = (("zh_CN", "CN", 8), ("en_US", "US", -5), ("de_DE", "DE", 1), ("ja_JP", "JP", 9),
           ("fr_FR", "FR", 1), ("en_GB", "GB", 0), ("pt_BR", "BR", -3), ("en_IN", "IN", 5))
# where a stolen key is used from: countries no office is in
FOREIGN = (("RU", 3), ("KP", 9), ("NG", 1), ("VN", 7), ("IR", 3), ("RO", 2))
TEAM_NAMES = ("vision", "nlp", "speech", "recsys", "forecasting", "search", "ads", "robotics",
              "fraud", "health", "maps", "ranking")

SDK_AGENTS = (
    "huaweicloud-usdk-python/3.0 (Linux; x86_64) python/3.11.9",
    "huaweicloud-usdk-python/3.0 (Darwin; arm64) python/3.12.4",
    "huaweicloud-usdk-java/3.1.219 (Linux amd64) Java/17.0.11",
    "huaweicloud-usdk-go/v0.1.160 (linux; amd64) go1.22.5",
)
CLI_AGENTS = ("KooCLI/5.3.0 (Linux; x86_64)", "KooCLI/5.3.0 (Darwin; arm64)",
              "KooCLI/5.2.9 (Windows; x86_64)")
CONSOLE_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
)
CI_AGENT = "huaweicloud-usdk-python/3.0 (Linux; x86_64) python/3.11.9 gitlab-runner/17.5.2"


@dataclass(frozen=True)
class Network:
    cidr: str
    country: str
    kind: str  # office | home | vpn | datacenter | foreign

    def address(self, rng: random.Random) -> str:
        net = ipaddress.ip_network(self.cidr)
        return str(net.network_address + rng.randrange(1, net.num_addresses - 1))


@dataclass(frozen=True)
class Persona:
    user: User
    team: "Team"
    role: str  # a key of ROLES
    project: Project
    networks: tuple[Network, ...]
    client: str  # sdk | cli | console: how this person usually calls
    user_agent: str
    console_agent: str
    utc_offset_h: int
    work_start_h: float  # local time
    work_end_h: float
    country: str

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def access_key(self) -> str:
        return self.user.credentials[0].access_key

    def describe(self) -> dict:
        return {"name": self.name, "user_id": self.user.id, "team": self.team.name,
                "role": self.role, "iam_role": self.user.role, "project_id": self.project.id,
                "access_key_id": self.access_key, "client": self.client,
                "user_agent": self.user_agent, "country": self.country,
                "utc_offset_hours": self.utc_offset_h,
                "working_hours": [self.work_start_h, self.work_end_h],
                "networks": [n.cidr for n in self.networks]}


@dataclass
class Team:
    name: str
    project: Project
    office: Network
    country: str
    utc_offset_h: int
    members: list[Persona] = field(default_factory=list)

    def with_role(self, role: str) -> list[Persona]:
        return [p for p in self.members if p.role == role]


@dataclass
class Organisation:
    domain: Domain
    region: str
    home: Project  # the region's main project: the admins' and the auditors'
    teams: list[Team]
    admins: list[Persona]
    auditors: list[Persona]
    directory: Directory
    foreign_networks: tuple[Network, ...]

    @property
    def personas(self) -> list[Persona]:
        people = list(self.admins) + list(self.auditors)
        for team in self.teams:
            people += team.members
        return people

    def describe(self) -> dict:
        return {"domain": {"id": self.domain.id, "name": self.domain.name},
                "region": self.region,
                "projects": [{"id": p.id, "name": p.name} for p in
                             [self.home] + [t.project for t in self.teams]],
                "personas": [p.describe() for p in self.personas]}

    def accounts(self) -> dict:
        """The organisation as an accounts mapping (Directory.from_mapping reads it back)."""
        return {"domains": [{
            "id": self.domain.id, "name": self.domain.name,
            "projects": [{"id": p.id, "name": p.name, "region": p.region}
                         for p in [self.home] + [t.project for t in self.teams]],
            "users": [{"id": u.id, "name": u.name, "role": u.role,
                       "credentials": [{"access_key": c.access_key,
                                        "secret_key": c.secret_key} for c in u.credentials]}
                      for u in self.directory.users]}]}


class _Draw:
    """Identifiers and networks from the run's seed (no wall clock, no global random)."""

    def __init__(self, seed: int):
        self.rng = random.Random("org-%d" % seed)

    def hex32(self) -> str:
        return "%032x" % self.rng.getrandbits(128)

    def access_key(self) -> str:
        return "".join(self.rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=20))

    def secret_key(self) -> str:
        return "".join(self.rng.choices(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", k=40))

    def network(self, prefix: int, country: str, kind: str, taken: set) -> Network:
        while True:
            first = self.rng.choice((31, 37, 46, 49, 58, 77, 81, 94, 103, 110, 121, 139, 151,
                                     176, 185, 193, 202, 212))
            base = (first << 24) | (self.rng.getrandbits(24) & ~((1 << (32 - prefix)) - 1))
            net = ipaddress.ip_network((base, prefix))
            if str(net) not in taken:
                taken.add(str(net))
                return Network(str(net), country, kind)


def _slug(text: str) -> str:
    kept = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(part for part in kept.split("-") if part)[:40] or "org"


def build(seed: int, teams: int, region: str = "cn-north-4") -> Organisation:
    """The organisation for a seed: the same seed gives the same people, keys and networks."""
    if teams < 1:
        raise ValueError("an organisation needs at least one team")
    draw = _Draw(seed)
    rng = draw.rng
    fake = Faker([office[0] for office in OFFICES])
    fake.seed_instance(seed)
    company = fake["en_US"].company()
    domain = Domain(draw.hex32(), _slug(company))
    home = Project(draw.hex32(), region, region, domain)
    taken: set = set()
    names: set = set()
    users: list[User] = []
    offices = list(OFFICES)
    rng.shuffle(offices)

    def new_user(locale: str, role: str, robot_name: str | None = None) -> User:
        if robot_name:
            name = robot_name
        else:
            person = fake[locale]
            while True:
                if hasattr(person, "first_romanized_name"):  # zh_CN, ja_JP: IAM names are ASCII
                    first, last = person.first_romanized_name(), person.last_romanized_name()
                else:
                    first, last = person.first_name(), person.last_name()
                name = _ascii_name("%s.%s" % (first, last))
                if len(name) >= 5 and name not in names:
                    break
        names.add(name)
        cred = Credential(draw.access_key(), draw.secret_key())
        user = User(draw.hex32(), name, ROLES[role], domain, credentials=(cred,))
        users.append(user)
        return user

    def persona(user, team, role, project, networks, client, offset, country) -> Persona:
        start = rng.choice((7.5, 8.0, 8.5, 9.0, 9.5, 10.0))
        agent = {"sdk": rng.choice(SDK_AGENTS), "cli": rng.choice(CLI_AGENTS),
                 "console": rng.choice(CONSOLE_AGENTS)}[client]
        if role == "ci-robot":
            agent = CI_AGENT
        return Persona(user, team, role, project, tuple(networks), client, agent,
                       rng.choice(CONSOLE_AGENTS), offset, start,
                       start + rng.choice((8.0, 8.5, 9.0, 9.5)), country)

    team_list: list[Team] = []
    team_names = list(TEAM_NAMES)
    rng.shuffle(team_names)
    for i in range(teams):
        locale, country, offset = offices[i % len(offices)]
        name = team_names[i % len(team_names)] + ("" if i < len(team_names) else str(i))
        project = Project(draw.hex32(), "%s_%s" % (region, name), region, domain)
        office = draw.network(24, country, "office", taken)
        team = Team(name, project, office, country, offset)
        runner = draw.network(28, country, "datacenter", taken)
        plan = ([("ml-engineer", "sdk")] * 2 + [("ml-engineer", rng.choice(("cli", "console")))]
                + [("data-labeller", "console")] * rng.choice((1, 2)) + [("ci-robot", "sdk")])
        for role, client in plan:
            robot = "ci-%s" % name if role == "ci-robot" else None
            user = new_user(locale, role, robot)
            networks = [runner] if robot else [office, draw.network(29, country, "home", taken)]
            if not robot and rng.random() < 0.4:
                networks.append(draw.network(27, country, "vpn", taken))
            team.members.append(persona(user, team, role, project, networks, client, offset,
                                        country))
        team_list.append(team)

    first = team_list[0]
    admins, auditors = [], []
    for role, client, bucket in (("admin", "console", admins), ("auditor", "console", auditors)):
        user = new_user(offices[0][0], role)
        networks = [first.office, draw.network(29, first.country, "home", taken)]
        bucket.append(persona(user, first, role, home, networks, client, first.utc_offset_h,
                              first.country))
    foreign = tuple(draw.network(24, country, "foreign", taken) for country, _ in FOREIGN)
    directory = Directory([domain], [home] + [t.project for t in team_list], users)
    return Organisation(domain, region, home, team_list, admins, auditors, directory, foreign)


def _ascii_name(text: str) -> str:
    """An IAM user name from a person's name: ASCII letters, digits, dots and hyphens.
    Names in other scripts become a short stable hash (IAM allows no CJK in user names)."""
    out = []
    for ch in text.lower():
        if ch.isascii() and (ch.isalnum() or ch in ".-"):
            out.append(ch)
        elif ch == " ":
            out.append("-")
    name = "".join(out).strip(".-")
    if len(name.replace(".", "")) < 3:
        name = "u" + hashlib.sha256(text.encode()).hexdigest()[:10]
    return name[:32]
