"""The README's configuration table, generated from `Settings` so it cannot drift."""

from __future__ import annotations

from impressox.settings import Settings, env_name


def markdown_table() -> str:
    """A Markdown table: environment variable, YAML key, default, meaning."""
    rows = [
        "| Environment variable | YAML key | Default | Meaning |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "unset" if default is None else f"`{_plain(default)}`"
        rows.append(f"| `{env_name(name)}` | `{name}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)


def _plain(value: object) -> str:
    if isinstance(value, list):
        return "[]" if not value else str(value)
    return str(value)
