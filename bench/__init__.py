"""The benchmark: our stack side by side with bare Flask and Celery, measured in one run (`make bench`)."""
