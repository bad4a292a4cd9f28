"""The in-memory object store: one global resourceVersion counter and a change log for watches.

Objects are stored as the JSON dicts the server returns. Every write takes the one lock, bumps the
counter, and appends (resourceVersion, event type, storage key, object) to a bounded log that
watch requests replay from and then follow, like etcd's watch history behind a real server.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

StorageKey = tuple[str, str]  # (group, plural)
ObjectKey = tuple[str, str]  # (namespace or "", name)

HISTORY = 20000


@dataclass(frozen=True)
class Change:
    """One entry in the change log: what a watch sends as {"type", "object"}."""

    rv: int
    type: str  # ADDED, MODIFIED or DELETED
    key: StorageKey
    obj: dict
    # The object before a MODIFIED change: a watch with a selector reports an object that
    # starts or stops matching as ADDED or DELETED.
    previous: dict | None = None


class Store:
    """Objects by kind, namespace and name, with a change log and a condition to wait on."""

    def __init__(self, resource_version: int = 0) -> None:
        """An empty store whose first write gets ``resource_version + 1``."""
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._rv = resource_version
        self._objects: dict[StorageKey, dict[ObjectKey, dict]] = {}
        self._log: deque[Change] = deque(maxlen=HISTORY)
        self._listeners: list[Callable[[Change], None]] = []

    @property
    def resource_version(self) -> int:
        """The newest resourceVersion handed out."""
        return self._rv

    def oldest_watchable(self) -> int:
        """The resourceVersion before the oldest change still in the log."""
        with self.lock:
            return self._log[0].rv - 1 if self._log else self._rv

    def add_listener(self, listener: Callable[[Change], None]) -> None:
        """Call `listener` (under the lock) on each change; controllers use it to wake up."""
        self._listeners.append(listener)

    def get(self, key: StorageKey, namespace: str, name: str) -> dict | None:
        """A copy of one object, or None."""
        with self.lock:
            obj = self._objects.get(key, {}).get((namespace, name))
            return copy.deepcopy(obj) if obj is not None else None

    def list(
        self,
        key: StorageKey,
        namespace: str | None = None,
        match: Callable[[dict], bool] | None = None,
    ) -> tuple[list[dict], int]:
        """Copies of matching objects in (namespace, name) order, and the list resourceVersion."""
        with self.lock:
            bucket = self._objects.get(key, {})
            items = [
                copy.deepcopy(obj)
                for (ns, _), obj in sorted(bucket.items())
                if (namespace is None or ns == namespace) and (match is None or match(obj))
            ]
            return items, self._rv

    def _record(self, kind: str, key: StorageKey, obj: dict, previous: dict | None = None) -> None:
        change = Change(self._rv, kind, key, copy.deepcopy(obj), previous)
        self._log.append(change)
        for listener in self._listeners:
            listener(change)
        self.changed.notify_all()

    def put(self, key: StorageKey, obj: dict, *, created: bool) -> dict:
        """Store a new or changed object under a fresh resourceVersion; returns a copy."""
        with self.lock:
            self._rv += 1
            meta = obj["metadata"]
            meta["resourceVersion"] = str(self._rv)
            bucket = self._objects.setdefault(key, {})
            object_key = (meta.get("namespace", ""), meta["name"])
            previous = bucket.get(object_key)
            bucket[object_key] = obj
            self._record("ADDED" if created else "MODIFIED", key, obj, previous)
            return copy.deepcopy(obj)

    def remove(self, key: StorageKey, namespace: str, name: str) -> dict | None:
        """Delete an object; the DELETED event carries a new resourceVersion, as etcd's does."""
        with self.lock:
            obj = self._objects.get(key, {}).pop((namespace, name), None)
            if obj is None:
                return None
            self._rv += 1
            obj["metadata"]["resourceVersion"] = str(self._rv)
            self._record("DELETED", key, obj)
            return copy.deepcopy(obj)

    def changes_since(self, rv: int) -> list[Change]:
        """Changes after `rv` still in the log (callers hold the lock)."""
        return [c for c in self._log if c.rv > rv]

    def follow(self, rv: int, stop: Callable[[], bool], timeout: float) -> Iterator[list[Change]]:
        """Yield batches of changes after `rv` until `stop()` or `timeout` seconds pass.

        An empty batch is yielded now and then so the caller can notice a closed connection.
        """
        import time  # noqa: PLC0415  (only watches need the clock)

        deadline = time.monotonic() + timeout
        while not stop():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            with self.lock:
                batch = self.changes_since(rv)
                if not batch:
                    self.changed.wait(min(remaining, 1.0))
                    batch = self.changes_since(rv)
            if batch:
                rv = batch[-1].rv
            yield batch
