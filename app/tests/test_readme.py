"""The README's settings table is the one the code defines."""

from pathlib import Path

from mcp_server.config import settings_table


def test_readme_lists_every_setting():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert settings_table() in readme, "regenerate the table: python -c 'from mcp_server.config import settings_table; print(settings_table())'"
