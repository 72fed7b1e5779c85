"""What runs on each compute route: the free-Colab step and its travelling outputs, and the laptop hand-off."""
