"""Work spread beyond one process: Ray tasks (:mod:`batterygym.scale.tasks`), optimum datasets, tuning.

Nothing here imports Ray at import time; it comes with the ``scale`` extra.
"""
