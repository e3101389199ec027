"""dutybot: the application core (settings, roster, database, domain services, runtime)."""

__version__ = "0.1.0"
