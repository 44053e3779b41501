"""The rendering helpers: local times, deadlines with the unconfirmed badge, navigation, templates."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jianguan import registry
from jianguan.web import render


def test_local_dt_shows_utc_instants_in_shanghai_time() -> None:
    at = dt.datetime(2026, 9, 30, 16, 5, tzinfo=dt.UTC)
    assert render.local_dt(at) == "2026-10-01 00:05"
    assert render.local_date(at) == "2026-10-01"
    assert render.local_dt(None) == ""
    assert render.local_date(dt.date(2026, 10, 8)) == "2026-10-08"


@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)))
def test_local_dt_is_always_eight_hours_ahead(naive: dt.datetime) -> None:
    at = naive.replace(tzinfo=dt.UTC, microsecond=0, second=0)
    shown = dt.datetime.strptime(render.local_dt(at), "%Y-%m-%d %H:%M")
    assert shown - at.replace(tzinfo=None) == dt.timedelta(hours=8)


def deadline_html(due: dt.date, unconfirmed: bool, locale: str = "zh_CN") -> str:
    env = render.environment(locale)
    template = env.from_string('{% from "_macros.html" import deadline %}{{ deadline(due, unconfirmed) }}')
    return template.render(due=due, unconfirmed=unconfirmed)


def test_deadline_shows_date_days_left_and_the_unconfirmed_badge() -> None:
    due = render.today() + dt.timedelta(days=5)
    html = deadline_html(due, unconfirmed=True)
    assert due.isoformat() in html
    assert "剩余 5 天" in html
    assert "未确认（节假日安排尚未发布）" in html
    assert "未确认" not in deadline_html(due, unconfirmed=False)


def test_deadline_marks_overdue_and_due_today() -> None:
    assert "已逾期 2 天" in deadline_html(render.today() - dt.timedelta(days=2), False)
    assert "is-overdue" in deadline_html(render.today() - dt.timedelta(days=2), False)
    assert "今天到期" in deadline_html(render.today(), False)
    assert "3 days left" in deadline_html(render.today() + dt.timedelta(days=3), False, "en")


def test_templates_escape_what_they_show() -> None:
    env = render.environment("zh_CN")
    assert env.from_string("{{ x }}").render(x="<script>") == "&lt;script&gt;"
    html = env.from_string('{{ _("Hello, {name}", name=x) }}').render(x="<b>王</b>")
    assert html == "您好，&lt;b&gt;王&lt;/b&gt;"


def test_navigation_has_home_and_every_domain_of_the_design() -> None:
    items = render.nav_items("zh_CN", "/")
    assert [i.package for i in items] == ["home", *(d.package for d in registry.DOMAINS)]
    assert items[0].label == "首页" and items[0].active
    for item, domain in zip(items[1:], registry.DOMAINS, strict=True):
        assert item.title == domain.chinese
        assert (item.href is not None) == registry.has_module(domain.package, "pages")


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_template_compiles(locale: str) -> None:
    env = render.environment(locale)
    names = env.list_templates(extensions=["html"])
    assert "base.html" in names
    for name in names:
        env.get_template(name)
