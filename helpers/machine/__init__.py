"""What this machine is: platform, CPU, memory and the GPU torch can use, read once and reported as typed facts."""
