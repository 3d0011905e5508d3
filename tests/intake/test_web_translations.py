"""Every message of the pages has its English translation in the committed, compiled catalogue."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo

INTAKE = Path(__file__).resolve().parents[2] / "services" / "intake"


def test_it_translates_every_message_of_the_pages_into_english() -> None:
    with (INTAKE / "translations" / "en" / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = read_mo(handle)
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    found = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(INTAKE), method_map, keywords={"_": None, "gettext": None, "_l": None}
        )
    }
    assert len(found) > 100  # the extraction did read the templates
    missing = sorted(
        m for m in found if isinstance(m, str) and not (compiled.get(m) and compiled.get(m).string)
    )
    assert not missing, missing
