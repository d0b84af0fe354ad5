# Two commands for a fresh machine (see README):
#   make demo   set up .venv and run `audit run suite=quality` on the bundled models
#   make test   set up .venv and run the test suite (what .ci/run calls)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# torch first, pinned: 2.13.0 is the CPU build this machine keeps on disk; an unpinned
# torch would pull a multi-GB CUDA build. On a CUDA machine install your CUDA build of torch
# into .venv first (see README), then run make: the range in pyproject.toml keeps it.
TORCH  ?= torch==2.13.0
# Test-only peers the feature-space tests compare against (tests/audit/evaluators/test_inception.py).
# Kept out of site-packages (--target) and without their dependencies: torch-fidelity needs
# torchvision, which does not import beside this CPU torch, and torchmetrics would import it.
PEERS  := $(VENV)/peers
PEER_PACKAGES ?= torch-fidelity==0.4.0

.PHONY: setup demo test clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

$(PEERS)/.installed: $(VENV)/.installed
	$(BIN)/pip install --quiet --no-deps --upgrade --target $(PEERS) $(PEER_PACKAGES)
	rm -rf $(PEERS)/tests $(PEERS)/bin
	touch $@

setup: $(VENV)/.installed $(PEERS)/.installed

demo: setup
	$(BIN)/audit run suite=quality

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) reports/*/
