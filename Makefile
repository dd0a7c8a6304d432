# opforge — the two commands of README.md:
#   make build   set up .venv (pinned frameworks) and build + install opforge into it
#   make test    run the test suite against that installation
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ORT_COMPAT_VENV ?= .venvs/ort115

# What the installed libraries are built from: a change re-runs `pip install .`.
SOURCES := $(shell git ls-files --cached --others --exclude-standard CMakeLists.txt pyproject.toml cpp ops docker python 2>/dev/null)

.PHONY: all build test test-asan fuzz clean matrix torch-cuda-venv
RELEASES ?= 23.05 25.10
# Test files spread over this many pytest-xdist workers (auto: one per core);
# each file stays on one worker, so its module fixtures are made once.
TEST_WORKERS ?= auto
all: build

$(VENV)/.deps: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(VENV)/.opforge-installed: $(VENV)/.deps $(SOURCES)
	$(PY) -m pip install --quiet --force-reinstall --no-deps .
	$(VENV)/bin/opforge info
	touch $@

$(ORT_COMPAT_VENV)/.deps: requirements-ort115.txt
	$(PYTHON) -m venv $(ORT_COMPAT_VENV)
	$(ORT_COMPAT_VENV)/bin/python -m pip install --quiet -r requirements-ort115.txt
	touch $@

# Optional (5.5 GB): a CUDA torch, for the test that builds the torch adapter
# with its CUDA kernels. `make test` uses it when it exists.
TORCH_CUDA_VENV ?= .venvs/torch-cuda
torch-cuda-venv: $(TORCH_CUDA_VENV)/.deps
$(TORCH_CUDA_VENV)/.deps: requirements-torch-cuda.txt
	$(PYTHON) -m venv $(TORCH_CUDA_VENV)
	$(TORCH_CUDA_VENV)/bin/python -m pip install --quiet -r requirements-torch-cuda.txt
	touch $@

build: $(VENV)/.opforge-installed

test: $(VENV)/.opforge-installed $(ORT_COMPAT_VENV)/.deps
	OPFORGE_ORT_COMPAT_PYTHONS=$(abspath $(ORT_COMPAT_VENV))/bin/python \
	$(if $(wildcard $(TORCH_CUDA_VENV)/.deps),OPFORGE_TORCH_CUDA_PYTHON=$(abspath $(TORCH_CUDA_VENV))/bin/python) \
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The long fuzz profile: 20,000 unseeded cases per op and framework (`make test` runs 1,000, seeded).
fuzz: $(VENV)/.opforge-installed
	OPFORGE_FUZZ_PROFILE=long $(PY) -m pytest -q tests/test_fuzz.py $(PYTEST_ARGS)

# The ONNX Runtime library and the kernels built with AddressSanitizer and
# UBSan, and the tests that load it (the fuzz profile included) run on it.
# TensorFlow's adapter is left out: GCC cannot compile TensorFlow's headers
# (absl) with -fsanitize=address.
ASAN_BUILD ?= build/asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
test-asan: $(VENV)/.opforge-installed
	cmake -S . -B $(ASAN_BUILD) -DOPFORGE_FRAMEWORKS=onnxruntime -DOPFORGE_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DOPFORGE_PYTHON=$(abspath $(PY)) "-DCMAKE_CXX_FLAGS=$(ASAN_FLAGS)" "-DCMAKE_SHARED_LINKER_FLAGS=$(ASAN_FLAGS)"
	cmake --build $(ASAN_BUILD)
	OPFORGE_LIB_DIR=$(abspath $(ASAN_BUILD)) OPFORGE_SANITIZED=1 ASAN_OPTIONS=detect_leaks=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libstdc++.so.6)" \
	$(PY) -m pytest -q -p no:cacheprovider tests/test_onnxruntime.py tests/test_bad_inputs.py tests/test_fuzz.py \
	  tests/test_concurrency_and_loads.py tests/test_threads.py -k onnxruntime $(PYTEST_ARGS)

# make triton-23.05 [OPS=DIR] [NAMESPACE=name] [TOOLCHAIN=pip]:
# dist/triton-23.05 (with OPS: dist/<ops folder name>-triton-23.05)
triton-%: $(VENV)/.opforge-installed
	$(VENV)/bin/opforge build --release $* --out dist/$(if $(OPS),$(notdir $(abspath $(OPS)))-)triton-$*$(if $(OPS), --ops $(OPS))$(if $(NAMESPACE), --namespace $(NAMESPACE))$(if $(TOOLCHAIN), --toolchain $(TOOLCHAIN))

matrix: $(addprefix triton-,$(RELEASES))

clean:
	rm -rf build dist $(VENV)/.opforge-installed
