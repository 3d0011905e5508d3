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


def test_it_has_an_english_msgstr_for_every_msgid_and_none_fuzzy() -> None:
    from babel.messages.pofile import read_po

    with (INTAKE / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    untranslated = sorted(m.id for m in catalog if m.id and not m.string)
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    assert not untranslated, untranslated
    assert not fuzzy, fuzzy
    chinese_in_english = sorted(
        m.id for m in catalog if m.id and any("\u4e00" <= ch <= "\u9fff" for ch in str(m.string))
    )
    assert not chinese_in_english, chinese_in_english
