"""Who may do what: roles from a small TOML file, used by the app (after sign-in) and by the CLI.

    # .streamlit/roles.toml (or the file named by UPLIFT_ROLES)
    [users]
    "lan@example.com" = "analyst"
    "somchai@example.com" = { role = "trainer", markets = ["TH", "VN"] }
    [default]
    role = "viewer"        # for signed-in people not listed; leave out to refuse them
    [cli]
    act_for_others = ["etl"]  # OS login names whose `uplift --user EMAIL` is believed (a scheduler)

Roles, each including the ones before it:
    viewer   aggregates only, always presenter-safe
    trainer  trainee-level data (optionally only their markets)
    analyst  imports and undo
    admin    everything, including backup and restore
"""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROLES = ("viewer", "trainer", "analyst", "admin")
DEFAULT_FILE = Path(".streamlit") / "roles.toml"

# The least role each action needs.
ACTIONS = {
    "view": "viewer",
    "trainee_data": "trainer",
    "import": "analyst",
    "undo": "analyst",
    "backup": "admin",
    "restore": "admin",
}


class RolesError(Exception):
    """The roles file cannot be read; the message says where and what."""


@dataclass(frozen=True)
class User:
    email: str
    role: str
    markets: tuple[str, ...] = ()  # empty: all markets

    def can(self, action: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(ACTIONS[action])


LOCAL_USER = User("local user", "admin")


def roles_file() -> Path:
    return Path(os.environ.get("UPLIFT_ROLES") or DEFAULT_FILE)


@dataclass(frozen=True)
class RoleConfig:
    users: dict[str, User]
    default_role: str | None
    # OS login names allowed to name someone else with the CLI's --user (anyone else's --user is ignored).
    act_for_others: frozenset[str] = frozenset()

    def user(self, email: str) -> User | None:
        """The signed-in person's role, or None if they are not allowed in."""
        key = email.strip().casefold()
        if key in self.users:
            return self.users[key]
        return User(email, self.default_role) if self.default_role else None


def load_roles(path: Path | None = None) -> RoleConfig | None:
    """The roles file, or None when there is none (local single-user mode)."""
    target = path or roles_file()
    if not target.exists():
        return None
    try:
        data = tomllib.loads(target.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RolesError(f"{target} is not valid TOML: {exc}") from exc
    users: dict[str, User] = {}
    for email, entry in (data.get("users") or {}).items():
        role, markets = (entry, []) if isinstance(entry, str) else (entry.get("role"), entry.get("markets", []))
        if role not in ROLES:
            raise RolesError(f"{target}: {email} has role {role!r}; use one of {', '.join(ROLES)}")
        users[email.strip().casefold()] = User(email, role, tuple(str(m) for m in markets))
    default = (data.get("default") or {}).get("role")
    if default is not None and default not in ROLES:
        raise RolesError(f"{target}: default role {default!r} is not one of {', '.join(ROLES)}")
    others = (data.get("cli") or {}).get("act_for_others", [])
    if not isinstance(others, list) or not all(isinstance(o, str) for o in others):
        raise RolesError(f"{target}: [cli] act_for_others must be a list of login names, e.g. [\"etl\"]")
    return RoleConfig(users, default, frozenset(others))


def os_user() -> str:
    """The operating system's login name, recorded as who imported or undid when nobody else is named."""
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


@dataclass(frozen=True)
class CliUser:
    """Who the command line acts as, and a warning when a --user it was given was not believed."""

    user: User
    warning: str | None = None


def cli_user(name: str | None) -> CliUser:
    """The CLI's user: the login name, with its role when a roles file exists. `--user` (`name`) is believed
    only when the roles file lets this login act for others ([cli] act_for_others); otherwise it is ignored
    with a warning, since anyone can type an admin's email."""
    login = os_user()
    config = load_roles()
    warning = None
    who = login
    if name and name != login:
        if config is not None and login in config.act_for_others:
            who = name
        else:
            where = roles_file() if config is not None else f"a roles file ({roles_file()})"
            warning = (
                f"--user {name} ignored: the login {login} may not act for others (list it under [cli] "
                f"act_for_others in {where}); acting as {login}"
            )
    if config is None:
        return CliUser(User(who, "admin"), warning)
    user = config.user(who)
    if user is None:
        raise RolesError(f"{who} is not in {roles_file()}: add this login, or run as someone who is")
    return CliUser(user, warning)
