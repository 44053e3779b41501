from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine


def test_health_reports_app_and_database(engine: Engine) -> None:
    from jianguan.app import create_app

    with TestClient(create_app()) as client:
        body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["database"]["backend"] == engine.dialect.name


def test_unknown_api_route_answers_in_the_error_shape(engine: Engine) -> None:
    from jianguan.app import create_app

    with TestClient(create_app()) as client:
        response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
