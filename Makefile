# The README's two commands: `make demo` (the main job) and `make test` (every test).
# Both install what they need first, so they work on a fresh machine.
PYTHON ?= python3
SWIFT  ?= swift

.PHONY: demo test setup-python setup-test-python build-release fuzz install

setup-python:
	@$(PYTHON) -m pip install --quiet --disable-pip-version-check -r Protocol/python/requirements.txt

setup-test-python: setup-python
	@$(PYTHON) -m pip install --quiet --disable-pip-version-check -r Tests/requirements.txt

build-release:
	$(SWIFT) build -c release --product tock

demo: setup-python build-release
	.build/release/tock demo printer

# `tock` in $(PREFIX)/bin, and what `tock demo printer` and the sample configs use in $(PREFIX)/share/tock
# (SampleUDFs/ and Protocol/python/), where tock looks for them beside its bin directory.
PREFIX ?= /usr/local
SHARE  := $(PREFIX)/share/tock
install: build-release
	install -d $(PREFIX)/bin $(SHARE)/SampleUDFs/printer $(SHARE)/Protocol
	install -m 755 .build/release/tock $(PREFIX)/bin/tock
	install -m 644 SampleUDFs/*.py SampleUDFs/README.md $(SHARE)/SampleUDFs/
	install -m 644 SampleUDFs/printer/* $(SHARE)/SampleUDFs/printer/
	rm -rf $(SHARE)/Protocol/python && cp -R Protocol/python $(SHARE)/Protocol/python
	find $(SHARE) -name __pycache__ -type d -prune -exec rm -rf {} +

# Tests run one at a time: several tests block while a daemon or a delivery works, and in parallel they can fill
# Swift's cooperative pool (one thread per core) until nothing progresses.
test: setup-test-python
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel
	$(PYTHON) -m pytest -q Tests/python

# Fuzzing (Tests/Fuzz/run.sh): builds the libFuzzer targets in .build-fuzz and runs each for
# FUZZ_SECONDS from the committed corpus; fails on a crash and saves it in Tests/Fuzz/Crashers/.
# Separate from `make test` (the sanitizer build adds several minutes); CI runs it after the tests.
FUZZ_SECONDS ?= 15
fuzz:
	Tests/Fuzz/run.sh $(FUZZ_SECONDS)
