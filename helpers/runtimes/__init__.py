"""The runtimes the kit drives: Transformers, llama.cpp (build, quantize), a local OpenAI-compatible API, and one client."""
