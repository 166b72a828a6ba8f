"""Comments' Markdown: rendered without raw HTML, then cleaned to an allow-list by nh3."""

from __future__ import annotations

from app.web.presenters.review import markdown


def test_markdown_renders_the_usual_things() -> None:
    html = str(markdown("# Plan\n\n*one* and `two`\n\n- a\n- b\n\n> quoted"))
    for tag in ("<h1>Plan</h1>", "<em>one</em>", "<code>two</code>", "<li>a</li>", "<blockquote>"):
        assert tag in html


def test_raw_html_is_text_and_unsafe_links_are_not_links() -> None:
    html = str(
        markdown('<img src=x onerror="alert(1)"> [x](javascript:alert(1)) [y](data:text/html,z)')
    )
    assert "<img" not in html and "&lt;img" in html
    assert 'href="javascript' not in html and 'href="data' not in html


def test_the_sanitiser_drops_what_markdown_would_emit_beyond_the_allow_list() -> None:
    # An image is valid Markdown, but not on the allow-list: nh3 removes the tag.
    html = str(
        markdown("![tracker](https://example.org/pixel.gif) and [a link](https://example.org)")
    )
    assert "<img" not in html and "pixel.gif" not in html
    assert 'rel="noopener noreferrer nofollow"' in html
