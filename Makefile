# The two commands: `make demo` (run the platform with demo data) and `make test` (all tests).
UV := python3 -m uv

.PHONY: demo test setup assets lint fmt migration bench clean

demo: setup
	$(UV) run --frozen jianguan demo

test:
	scripts/test.sh

setup:
	scripts/setup.sh

assets:
	scripts/build-assets.sh

lint:
	$(UV) run --frozen ruff check src tests migrations bench
	$(UV) run --frozen mypy

fmt:
	$(UV) run --frozen ruff format src tests migrations bench
	$(UV) run --frozen ruff check --fix src tests migrations bench

bench: setup
	$(UV) run --frozen python bench/run_all.py

clean:
	rm -rf .venv node_modules src/jianguan/web/static/vendor var
