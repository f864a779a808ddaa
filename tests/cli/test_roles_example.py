"""The shipped roles example reads as the CLI expects (its [cli] section included)."""

from pathlib import Path

from access.roles import load_roles

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "roles.example.toml"


def test_the_roles_example_loads_with_who_may_act_for_others():
    config = load_roles(EXAMPLE)
    assert config is not None and config.act_for_others == frozenset({"etl"})
    assert config.users["lan.nguyen@example.com"].role == "analyst"
