"""Placeholder: filled in next."""


def check_moto() -> None:
    pass


def install(sim) -> None:
    pass
