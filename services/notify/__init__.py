"""The notify service: turns findings into alerts and delivers them."""
