"""Refit the step-time model's A100 parameters on the vTrain 'fit' half and print them.

    python bench/calibrate_perf.py [--write]

Same as ``python -m truecost.stages.perf.calibrate``; ``--write`` writes them to
src/truecost/catalog/data/perf_calibration.csv, which the model reads.
"""

from truecost.stages.perf.calibrate import main

if __name__ == "__main__":
    raise SystemExit(main())
