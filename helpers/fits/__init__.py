"""Will it fit, and how fast can it go: the memory estimator, on the shapes helpers.catalogue.models reads, and the roofline."""
