"""MQTT topic names of one gateway: `<prefix>/<site>/<gateway>/{state,birth,data,event,cmd/<verb>}`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topics:
    prefix: str
    site: str
    gateway: str

    @property
    def root(self) -> str:
        return f"{self.prefix}/{self.site}/{self.gateway}"

    @property
    def state(self) -> str:
        return f"{self.root}/state"

    @property
    def birth(self) -> str:
        return f"{self.root}/birth"

    @property
    def data(self) -> str:
        return f"{self.root}/data"

    @property
    def event(self) -> str:
        return f"{self.root}/event"

    def cmd(self, verb: str = "+") -> str:
        return f"{self.root}/cmd/{verb}"

    def for_kind(self, kind: str) -> str:
        return self.event if kind == "event" else self.data
