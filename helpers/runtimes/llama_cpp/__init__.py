"""runtimes/llama_cpp"""
