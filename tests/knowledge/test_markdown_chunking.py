"""Markdown chunking: sections at headings first, then token chunks with overlap."""

from __future__ import annotations

from knowledge.chunking import Chunker, markdown_sections

DOC = """Preface.

# Setup
Install it.
~~~
## not a heading inside a fence
~~~
## Keys ##
Create a key.
#hashtag is text
### Rotation
Rotate monthly.
# Usage
Run it.
"""


def test_sections_follow_the_heading_path_and_skip_fenced_code() -> None:
    sections = markdown_sections(DOC)
    assert [section.headings for section in sections] == [
        (),
        ("Setup",),
        ("Setup", "Keys"),
        ("Setup", "Keys", "Rotation"),
        ("Usage",),
    ]
    assert sections[1].text.endswith("## not a heading inside a fence\n~~~\n")
    assert sections[2].text == "## Keys ##\nCreate a key.\n#hashtag is text\n"
    assert "".join(section.text for section in sections) == DOC


def test_chunks_never_straddle_sections_and_are_numbered_through() -> None:
    chunks = Chunker(6, 2).markdown_chunks(DOC)
    assert [chunk.number for chunk in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        section = next(s for s in markdown_sections(DOC) if s.headings == chunk.headings)
        assert chunk.text in section.text
        assert chunk.tokens <= 6
    usage = [chunk.text for chunk in chunks if chunk.headings == ("Usage",)]
    assert usage == ["# Usage\nRun it."]


def test_a_long_section_overlaps_like_plain_text() -> None:
    body = " ".join(f"w{i}" for i in range(30))
    chunks = Chunker(10, 3).markdown_chunks(f"# Title\n{body}\n")
    assert chunks[0].text.startswith("# Title")
    assert all(chunk.headings == ("Title",) for chunk in chunks)
    pieces = [chunk.text.split() for chunk in chunks]
    assert pieces[1][:3] == pieces[0][-3:]


def test_text_without_headings_is_one_section() -> None:
    assert [s.headings for s in markdown_sections("just text\n\nmore")] == [()]
    assert markdown_sections(" \n\n") == []
