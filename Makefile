# The README's two commands: `make demo` (the main job) and `make test` (every test).
# Both install what they need first, so they work on a fresh machine.
PYTHON ?= python3
SWIFT  ?= swift

.PHONY: demo test setup-python build-release

setup-python:
	@$(PYTHON) -m pip install --quiet --disable-pip-version-check -r Protocol/python/requirements.txt

build-release:
	$(SWIFT) build -c release --product tock

demo: setup-python build-release
	.build/release/tock demo printer

test: setup-python
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(PYTHON) -m pytest -q Tests/python
