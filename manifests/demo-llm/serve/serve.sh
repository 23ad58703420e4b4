#!/bin/sh
# Serves the active version of the model with vLLM's OpenAI-compatible server.
set -eu
here="$(cd "$(dirname "$0")/.." && pwd)"
exec vllm serve "$here/model" --host 127.0.0.1 --port 8000 --served-model-name demo-llm
