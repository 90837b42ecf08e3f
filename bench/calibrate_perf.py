"""Refit the step-time model's A100 parameters on the vTrain 'fit' half and print them.

    python bench/calibrate_perf.py

Same as ``python -m truecost.stages.perf.calibrate``; paste the printed FITTED_A100 table into
src/truecost/perf/params.py if the model changes.
"""

from truecost.stages.perf.calibrate import main

if __name__ == "__main__":
    main()
