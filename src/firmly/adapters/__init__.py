"""Adapters: storage and the outside world, behind the ports of firmly.domain.ports."""
