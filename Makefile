# make demo · make test · make bench. Each target bootstraps .venv from pyproject.toml
# when it is missing or older than pyproject.toml; nothing but python3 and make is assumed.
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.p2c-installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/p2c demo

test: $(STAMP)
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	$(PY) bench/page_cost.py
	$(PY) bench/extract_throughput.py
	$(PY) bench/extract_latency.py
	$(PY) bench/push_plan.py
	$(PY) bench/push_batch.py
	$(PY) bench/emulate_writes.py
	$(PY) -m pytest -m slow -s $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .p2c
