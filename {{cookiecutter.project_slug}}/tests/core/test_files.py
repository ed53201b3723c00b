import pytest

from app.core.exceptions import UnsupportedFileTypeError
from app.core.files import check_type, content_disposition, detect_type, safe_filename

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452")
PDF = b"%PDF-1.7\n"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\\\..\\\\windows\\\\system32\\\\evil.png", "evil.png"),
        ("/absolute/path/photo.png", "photo.png"),
        ("..", "file"),
        ("", "file"),
        (None, "file"),
        ("name\x00with\x1bcontrols\r\n.png", "namewithcontrols.png"),
        ("invoice\u202egnp.exe", "invoicegnp.exe"),  # a right-to-left override hides .exe
        ("  .hidden  ", "hidden"),
        ("Cafe\u0301.png", "Caf\u00e9.png"),  # NFC: one code point per letter
    ],
)
def test_safe_filename_keeps_only_a_harmless_label(given: str | None, kept: str) -> None:
    assert safe_filename(given) == kept


def test_safe_filename_shortens_long_names_but_keeps_the_extension() -> None:
    name = safe_filename("a" * 400 + ".pdf")
    assert len(name) == 255
    assert name.endswith(".pdf")


def test_content_disposition_quotes_nothing_it_should_not() -> None:
    header = content_disposition('na"me\\ é.pdf')
    assert (
        header == "attachment; filename=\"na_me_ _.pdf\"; filename*=UTF-8''na%22me%5C%20%C3%A9.pdf"
    )


@pytest.mark.parametrize(("head", "mime"), [(PNG, "image/png"), (PDF, "application/pdf")])
def test_detect_type_reads_the_signature(head: bytes, mime: str) -> None:
    assert detect_type(head) == mime


def test_detect_type_finds_nothing_in_plain_text() -> None:
    assert detect_type(b"just some words") is None


@pytest.mark.parametrize("head", [b"<html><script>alert(1)</script>", b"MZ" + bytes(62), b"plain"])
def test_check_type_refuses_what_is_not_allowed(head: bytes) -> None:
    with pytest.raises(UnsupportedFileTypeError):
        check_type(head, ["image/png", "application/pdf"])
