"""The Python API: train, resume and open runs, compare configurations, reports, the theory lab."""
