"""The intake service: HTML forms and the JSON API."""
