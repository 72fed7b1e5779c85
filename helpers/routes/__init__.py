"""What runs on each compute route: route 1's kept figure, the free-Colab step and its travelling outputs, route 3's
rehearsal server and stopwatch, and the laptop hand-off."""
