"""This machine's memory read bandwidth, the numerator of every decode ceiling in the kit.

The method (stated in the output and in ``outputs/bandwidth.json``): numpy
reduces a 512 MiB int64 array, far larger than any CPU cache, with 1..N threads
each reading its own slice, best of five per thread count. The best rate is the
figure ``helpers.fits.roofline`` and the estimator use. On shared VMs other tenants
move it by tens of percent; rerun it on a quiet machine for a figure to quote.

    .venv/bin/python benchmarks/bandwidth.py      # writes outputs/bandwidth.json
"""

from __future__ import annotations

from helpers.core.paths import relative
from helpers.fits.roofline import measure_bandwidth, write_bandwidth


def main() -> int:
    measured = measure_bandwidth()
    print(f"Memory read bandwidth on {measured.hardware}")
    print(f"method: {measured.method}")
    for threads, gb_s in measured.by_threads.items():
        print(f"  {threads} thread{'s' if threads > 1 else ' '}  {gb_s:6.1f} GB/s")
    print(f"Best: {measured.gb_s:.1f} GB/s. Wrote {relative(write_bandwidth(measured))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
