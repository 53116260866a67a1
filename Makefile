# The two commands of the README:
#   make demo   install if needed, then run the main job (python -m drnet_lite demo)
#   make test   install if needed, then run every test (package tests; every notebook runs in quick mode
#               as a fresh runtime: empty HOME, MNIST downloaded from a local server, see tests/test_notebooks.py)
PYTHON ?= python3
# On a machine without a GPU, install a CPU build of torch first (see README).
TORCH ?= torch>=2.2
OUT ?= outputs/demo

.PHONY: demo test install strip

install:
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install "$(TORCH)"
	@$(PYTHON) -c "import drnet_lite, nbval, hypothesis, skimage, av" 2>/dev/null || $(PYTHON) -m pip install -e ".[dev]"

demo: install
	$(PYTHON) -m drnet_lite demo --out $(OUT)

test: install
	DRNET_QUICK=1 $(PYTHON) -m pytest tests

strip:
	$(PYTHON) tools/strip_notebooks.py notebooks/*.ipynb
	$(PYTHON) tools/install_cell.py
