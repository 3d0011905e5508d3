from __future__ import annotations

import pytest

from shared.config import DEFAULT_SECRET, ConfigError, load


def test_it_defaults_to_sqlite_under_the_instance_folder() -> None:
    settings = load({"PILOTWATCH_INSTANCE": "/srv/pw"})
    assert settings.database_url == "sqlite:////srv/pw/pilotwatch.db"
    assert settings.secret_key == DEFAULT_SECRET


@pytest.mark.parametrize(
    ("name", "value"), [("PORT", "eighty"), ("PUBLISH_TIMEOUT", "soon"), ("PILOTWATCH_ENV", "staging")]
)
def test_it_fails_loudly_on_a_malformed_value(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load({name: value})


def test_it_refuses_the_default_secret_in_production() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load({"PILOTWATCH_ENV": "production"})
    assert load({"PILOTWATCH_ENV": "production", "SECRET_KEY": "x" * 40}).production
