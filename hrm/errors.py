"""The exception type raised by the `hrm` package for bad configurations and bad inputs."""


class ConfigError(ValueError):
    """A configuration or input that cannot be used; the message names the field or tensor at fault."""
