# The two commands of the README:
#   make demo   install if needed, then run the main job (python -m drnet_lite demo)
#   make test   install if needed, then run every test (package tests; every notebook runs in quick mode
#               as a fresh runtime: empty HOME, MNIST downloaded from a local server, see tests/test_notebooks.py)
#   make student  student copies of the notebooks (solutions removed) in student/notebooks/
PYTHON ?= python3
# On a machine without a GPU, install a CPU build of torch first (see README).
TORCH ?= torch>=2.2
OUT ?= outputs/demo

CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: demo test install strip student

install:
	@$(PYTHON) -c "import torch" 2>/dev/null || { \
	  echo "torch is not installed: installing $(TORCH) with pip (with CUDA on Linux: a download of several GB)."; \
	  echo "No GPU? Stop (Ctrl-C) and run instead: make install TORCH=torch PIP_EXTRA='--index-url $(CPU_INDEX)'"; \
	  sleep 5; $(PYTHON) -m pip install "$(TORCH)" $(PIP_EXTRA); }
	@$(PYTHON) -c "import drnet_lite, nbval, hypothesis, skimage, av" 2>/dev/null || { \
	  echo "installing drnet_lite (editable) and its test tools: pip install -e '.[dev]'"; \
	  $(PYTHON) -m pip install -e ".[dev]"; }

demo: install
	$(PYTHON) -m drnet_lite demo --out $(OUT)

test: install
	DRNET_QUICK=1 $(PYTHON) -m pytest tests

strip:
	$(PYTHON) tools/strip_notebooks.py notebooks/*.ipynb
	$(PYTHON) tools/install_cell.py

student:
	$(PYTHON) tools/make_student.py --out student/notebooks
