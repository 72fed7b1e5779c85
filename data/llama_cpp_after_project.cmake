# Read by CMake right after llama.cpp's project() (CMAKE_PROJECT_llama.cpp_INCLUDE, set in helpers/core/pins.py).
# llama-cpp-python forces LLAMA_BUILD_COMMON on, yet its Python package loads only libllama and ggml; with the
# multimodal library off, nothing links libllama-common, and skipping it halves the compile (3 min 22 s to 1 min 39 s
# on a 2-core AMD EPYC, 2026-12-07).
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "llama.cpp common library: nothing in llama-cpp-python loads it" FORCE)
# libllama is some 190 small .cpp files (one per model architecture) that each parse the same large headers; compiled
# 16 to a unit they cost 27 s less CPU (3 min 42 s to 3 min 15 s of user time on the same machine, 2026-12-08), and
# the build still decodes the reference tokens. ggml, whose kernels dominate the rest, is compiled as it comes.
# Deferred to the end of the top-level CMakeLists, once the llama target exists.
cmake_language(DEFER CALL set_target_properties llama PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 16)
