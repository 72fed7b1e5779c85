"""Measurements the notebooks read: the quantization ladder, the runtime landscape, endpoint probes and the other dtype."""
