"""`jianguan demo` loads the demo world once; running it again adds nothing."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from typer.testing import CliRunner


def counts() -> dict[str, int]:
    from jianguan.auth.models import AccountRequest, User
    from jianguan.collab.models import AssistRequest, Complaint, JointTask
    from jianguan.core.models import WorkflowEvent
    from jianguan.db import session_scope
    from jianguan.entities.models import Entity
    from jianguan.officers.models import Agency, Credential, Officer

    with session_scope() as db:
        return {m.__tablename__: db.scalar(select(func.count()).select_from(m)) or 0
                for m in (Agency, User, AccountRequest, Entity, Officer, Credential, Complaint, JointTask,
                          AssistRequest, WorkflowEvent)}


def test_demo_twice_loads_once_and_prints_the_logins(fresh_db_url: str) -> None:
    from jianguan.cli import app

    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--no-serve", "--json"])
    assert first.exit_code == 0, first.output
    body = json.loads(first.output)
    assert {"admin", "xihu_officer"} <= {login["username"] for login in body["logins"]}
    after_first = counts()
    assert after_first["entities"] >= 19_000 and after_first["agencies"] >= 80
    assert after_first["users"] >= 8 and after_first["credentials"] >= 6
    assert body["loaded"]["collab"]["complaints"] == 5 and after_first["complaints"] >= 3000  # a year, and today's
    assert after_first["workflow_events"] > 3 * after_first["complaints"]
    assert body["loaded"]["collab"]["joint_tasks"] == 1 and body["loaded"]["collab"]["assist_requests"] == 1
    second = runner.invoke(app, ["demo", "--no-serve", "--json"])
    assert second.exit_code == 0, second.output
    assert counts() == after_first
    from jianguan.audit.service import verify
    from jianguan.db import session_scope

    with session_scope() as db:
        assert verify(db).ok
