# The two commands of the README:
#   make demo   install if needed, then run the main job (python -m drnet_lite demo)
#   make test   install if needed, then run every test: package tests; nbval runs every notebook as shipped
#               (quick mode), and tests/test_notebooks.py runs every student copy as a fresh runtime (empty
#               HOME, MNIST downloaded from a local server)
#   make student  student copies of the notebooks (solutions removed) in student/notebooks/
PYTHON ?= python3
# torch, when missing, is installed sized to the machine by tools/install_torch.py: on Linux with no
# NVIDIA GPU the CPU build from CPU_INDEX (the default index if that cannot be reached, and it says so),
# else the default build. TORCH_BUILD=cpu or TORCH_BUILD=default overrides the rule.
TORCH ?= torch>=2.2
TORCH_BUILD ?= auto
OUT ?= outputs/demo

CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: demo test install strip student

install:
	@$(PYTHON) -c "import torch" 2>/dev/null || \
	  $(PYTHON) tools/install_torch.py "$(TORCH)" --build $(TORCH_BUILD) --cpu-index $(CPU_INDEX) --pip-extra "$(PIP_EXTRA)"
	@$(PYTHON) -c "import drnet_lite, nbval, hypothesis, skimage, av" 2>/dev/null || { \
	  echo "installing drnet_lite (editable) and its test tools: pip install -e '.[dev]'"; \
	  $(PYTHON) -m pip install -e ".[dev]"; }

demo: install
	$(PYTHON) -m drnet_lite demo --out $(OUT)

test: install
	DRNET_QUICK=1 $(PYTHON) -m pytest tests notebooks --nbval-lax --nbval-current-env

strip:
	$(PYTHON) tools/strip_notebooks.py notebooks/*.ipynb
	$(PYTHON) tools/install_cell.py

student:
	$(PYTHON) tools/make_student.py --out student/notebooks
