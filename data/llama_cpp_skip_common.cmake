# Read by CMake right after llama.cpp's project() (CMAKE_PROJECT_llama.cpp_INCLUDE, set in helpers/core/pins.py).
# llama-cpp-python forces LLAMA_BUILD_COMMON on, yet its Python package loads only libllama and ggml; with the
# multimodal library off, nothing links libllama-common, and skipping it halves the compile (3 min 22 s to 1 min 39 s
# on a 2-core AMD EPYC, 2026-12-07).
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "llama.cpp common library: nothing in llama-cpp-python loads it" FORCE)
