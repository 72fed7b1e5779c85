"""Will it fit, and how fast can it go: the memory estimator, the model catalogue's shapes and the bandwidth roofline."""
