"""数据导入 end to end in Chromium: an officer uploads a file with bad rows, sees the problems, downloads
the report, corrects the file and imports it again; the entities appear in the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from jianguan.entities.uscc import make_uscc
from tests.e2e.conftest import LiveServer, screenshot, sign_in

pytestmark = pytest.mark.e2e
HEADER = "uscc,name,kind,status,region_code,industry_code,established_on,credit_class,risk_level\n"


def rows(bad: bool) -> str:
    lines = []
    for i in range(1, 7):
        date = "2021-02-30" if bad and i == 2 else "2021-03-08"
        kind = "公司" if bad and i == 5 else "企业"
        code = make_uscc("9", "1", "330106", f"MA2J{i:04d}")
        lines.append(f"{code},杭州西湖云栖餐饮{i}号店有限公司,{kind},存续,330106,6210,{date},B,blue")
    return HEADER + "\n".join(lines) + "\n"


def load_reference() -> None:
    from jianguan.db import session_scope
    from jianguan.reference import service as ref

    with session_scope() as db:
        ref.load_all(db)


def test_upload_bad_rows_see_problems_download_report_fix_and_reimport(
    live_server: LiveServer, new_page: Any, tmp_path: Path
) -> None:
    load_reference()
    bad, good = tmp_path / "西湖餐饮.csv", tmp_path / "西湖餐饮-改.csv"
    bad.write_text(rows(bad=True), encoding="gb18030")  # what Excel in China saves
    good.write_text(rows(bad=False), encoding="utf-8")

    page = new_page(1440)
    sign_in(page, live_server)
    page.goto(live_server("/entities"))
    page.click("text=从文件导入")
    page.wait_for_url(live_server("/imports?kind=entities"))
    page.set_input_files("#f-file", str(bad))
    page.click("form.import-form button[type=submit]")
    page.wait_for_selector("#h-problems")
    screenshot(page, "import-problems")
    table = page.inner_text("#h-problems + div, section[aria-labelledby=h-problems]")
    assert "established_on" in table and "kind" in table
    assert "第" not in page.inner_text("h1")  # the title is the batch, not a row
    assert page.locator(".summary-grid .stat.is-bad b").inner_text() == "2"
    with page.expect_download() as info:
        page.click("text=下载问题报告")
    report = tmp_path / "report.xlsx"
    info.value.save_as(report)
    problems = pl.read_excel(report, sheet_name="问题清单", engine="calamine", infer_schema_length=0)
    assert sorted(problems.get_column("行号").cast(pl.Int64).to_list()) == [3, 6]

    # Nothing written yet; the officer corrects the file and uploads it again.
    page.goto(live_server("/imports?kind=entities"))
    page.set_input_files("#f-file", str(good))
    page.click("form.import-form button[type=submit]")
    page.wait_for_selector("text=未发现问题")
    page.click("text=全部导入")
    page.wait_for_selector(".badge.status-committed")
    assert page.locator(".summary-grid .stat").nth(3).inner_text().endswith("6")
    screenshot(page, "import-done")
    page.goto(live_server("/entities?q=云栖"))
    assert page.locator("tbody tr").count() == 6

    phone = new_page(375)
    sign_in(phone, live_server)
    phone.goto(live_server("/imports"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(phone, "import-home")
