"""The bare baselines: a Flask app that answers or only enqueues, and a two-hop Celery pipeline doing no work."""
