"""preRESC tests: the forecasts run many tiny least-squares fits; one BLAS thread is fastest."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
