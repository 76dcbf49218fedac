from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from events.errors import ConfigurationError
from impressox.settings import secret_key
from impressox.settings_loader import load_settings
from impressox.settings_table import markdown_table

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings tests see only what they set (the suite may run with REDIS_URL set)."""
    for name in list(os.environ):
        if name.startswith("IMPRESSOX_") or name in ("REDIS_URL", "MONGO_URL"):
            monkeypatch.delenv(name)


def test_defaults_need_no_configuration() -> None:
    settings = load_settings()
    assert settings.partitions == 4
    assert settings.redis_url is None
    assert settings.api_host == "127.0.0.1"


def test_environment_variables_set_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPRESSOX_PARTITIONS", "8")
    monkeypatch.setenv("REDIS_URL", "redis://example:6380/0")
    monkeypatch.setenv("IMPRESSOX_MODULES", '["my.module"]')
    settings = load_settings()
    assert (settings.partitions, settings.redis_url, settings.modules) == (
        8,
        "redis://example:6380/0",
        ["my.module"],
    )


BARE_NAMES = {
    "LOG_LEVEL": "DEBUG",
    "API_PORT": "9999",
    "API_HOST": "0.0.0.0",  # noqa: S104 (a value that would expose the API, were it read)
    "RATE_LIMIT_PER_MINUTE": "0",
    "DEMO": "maybe",
    "WORKERS": "4",
    "PARTITIONS": "7",
    "DATA_DIR": "/elsewhere",
    "SOURCES": "nonsense",
    "AGENT_MODEL": "openai:gpt-4o",
    "STREAM_PREFIX": "other",
    "SECRET_KEY": "not-base64",
    "MAX_DELIVERIES": "0",
}


def test_bare_field_names_in_the_environment_are_not_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only IMPRESSOX_* and the documented standard variables are Impressox's."""
    before = load_settings()
    for name, value in BARE_NAMES.items():
        monkeypatch.setenv(name, value)
        monkeypatch.setenv(name.lower(), value)
    assert load_settings() == before


def test_documented_standard_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHROMA_URL", "http://chroma:8000")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    settings = load_settings()
    assert settings.chroma_url == "http://chroma:8000"
    assert settings.openai_api_key is not None


def test_yaml_file_values_yield_to_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "impressox.yaml"
    config.write_text("partitions: 16\nlog_level: DEBUG\nmongo_url: mongodb://db:27017\n")
    monkeypatch.setenv("IMPRESSOX_LOG_LEVEL", "WARNING")
    settings = load_settings(config)
    assert (settings.partitions, settings.log_level, settings.mongo_url) == (
        16,
        "WARNING",
        "mongodb://db:27017",
    )


def test_the_config_file_can_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "impressox.yaml"
    config.write_text("batch_size: 64\n")
    monkeypatch.setenv("IMPRESSOX_CONFIG", str(config))
    assert load_settings().batch_size == 64


def test_explicit_overrides_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPRESSOX_API_PORT", "9000")
    assert load_settings(api_port=9100).api_port == 9100


def test_a_misspelt_variable_is_refused_with_a_suggestion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPRESSOX_PARTITONS", "8")
    with pytest.raises(ConfigurationError) as error:
        load_settings()
    assert str(error.value) == (
        "unknown setting IMPRESSOX_PARTITONS (did you mean IMPRESSOX_PARTITIONS?)"
    )


def test_a_misspelt_yaml_key_is_refused_naming_the_file(tmp_path: Path) -> None:
    config = tmp_path / "impressox.yaml"
    config.write_text("batch_sise: 10\n")
    with pytest.raises(
        ConfigurationError, match=r"unknown setting 'batch_sise' in .*did you mean batch_size"
    ):
        load_settings(config)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "IMPRESSOX_PARTITIONS",
            "many",
            "invalid setting IMPRESSOX_PARTITIONS = 'many': Input should be a valid integer",
        ),
        (
            "IMPRESSOX_PARTITIONS",
            "0",
            "invalid setting IMPRESSOX_PARTITIONS = '0': Input should be greater than or equal",
        ),
        (
            "REDIS_URL",
            "localhost:6379",
            "invalid setting REDIS_URL = 'localhost:6379': String should match pattern",
        ),
        (
            "IMPRESSOX_LOG_LEVEL",
            "LOUD",
            "invalid setting IMPRESSOX_LOG_LEVEL = 'LOUD': Input should be",
        ),
        ("IMPRESSOX_MODULES", "not json", "invalid setting IMPRESSOX_MODULES"),
        (
            "IMPRESSOX_ALLOWED_DESTINATIONS",
            '["10.0.0.0/33"]',
            "invalid setting IMPRESSOX_ALLOWED_DESTINATIONS: '10.0.0.0/33' is neither a"
            " host name nor a network",
        ),
    ],
)
def test_invalid_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as error:
        load_settings()
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_invalid_yaml_values_name_the_key_and_file(tmp_path: Path) -> None:
    config = tmp_path / "impressox.yaml"
    config.write_text("partitions: -3\n")
    with pytest.raises(
        ConfigurationError, match=r"invalid setting 'partitions' in .*impressox.yaml = -3"
    ):
        load_settings(config)


@pytest.mark.parametrize(
    ("content", "message"), [("- a\n- b\n", "must hold a mapping"), ("a: [\n", "not valid YAML")]
)
def test_malformed_files_are_refused(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "impressox.yaml"
    config.write_text(content)
    with pytest.raises(ConfigurationError, match=message):
        load_settings(config)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read config file"):
        load_settings(tmp_path / "absent.yaml")


def test_the_readme_documents_every_setting() -> None:
    readme = (REPO / "README.md").read_text()
    assert markdown_table() in readme, (
        "README's table is stale: paste `impressox settings --markdown`"
    )


def test_the_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    key = secret_key(settings)
    assert len(key) == 32
    assert secret_key(settings) == key
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_a_configured_secret_key_must_be_32_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPRESSOX_SECRET_KEY", "c2hvcnQ=")
    with pytest.raises(ConfigurationError) as refusal:
        load_settings()
    assert (
        str(refusal.value)
        == "invalid setting IMPRESSOX_SECRET_KEY: must be base64 of 32 random bytes"
    )
    monkeypatch.setenv("IMPRESSOX_SECRET_KEY", base64.b64encode(bytes(range(32))).decode())
    assert secret_key(load_settings()) == bytes(range(32))
