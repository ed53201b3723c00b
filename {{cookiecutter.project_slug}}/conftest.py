"""Loaded by pytest before tests/conftest.py imports the app.

`app.jobs.broker` builds the taskiq broker from the environment when it is first imported (the
worker process has nothing else to go on). Pointing what it reads at the test settings first
keeps a tuned shell or `.env` (another REDIS_URL, queue or retry policy, ENVIRONMENT=production)
away from the suite's jobs.
"""

import os

from tests.settings import as_environment, make_test_settings

BROKER_SETTINGS = ("ENVIRONMENT", "REDIS_", "JOBS_")

os.environ.update(
    {
        name: value
        for name, value in as_environment(make_test_settings()).items()
        if name.startswith(BROKER_SETTINGS)
    }
)
