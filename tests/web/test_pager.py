"""The shared pager keeps the query, links both ways and hides itself for one page."""

from __future__ import annotations

from jianguan.web.render import environment


def render_pager(page: int, pages: int, base: str, anchor: str = "") -> str:
    template = environment("zh_CN").from_string(
        '{% from "_macros.html" import pager %}{{ pager(page, pages, base, anchor) }}')
    return template.render(page=page, pages=pages, base=base, anchor=anchor)


def test_middle_page_links_back_and_forward_keeping_the_query() -> None:
    html = render_pager(2, 3, "?q=%E9%A4%90&sort=name", "#list")
    assert 'href="?q=%E9%A4%90&amp;sort=name&amp;page=1#list"' in html  # & escaped, as HTML wants
    assert 'href="?q=%E9%A4%90&amp;sort=name&amp;page=3#list"' in html
    assert "第 2 页，共 3 页" in html


def test_first_and_last_pages_link_one_way_and_a_single_page_shows_nothing() -> None:
    assert "page=0" not in render_pager(1, 3, "?") and "page=2" in render_pager(1, 3, "?")
    assert "page=4" not in render_pager(3, 3, "?") and "page=2" in render_pager(3, 3, "?")
    assert render_pager(1, 1, "?").strip() == ""
