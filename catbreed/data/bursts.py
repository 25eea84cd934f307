"""Hold to record: the camera's frames added to one breed of a kept data set while a button is held.

A camera gives about ten frames a second, and a cat that keeps still gives many that are nearly the
same: they teach the network nothing new, and the estimate would put them in one cross-validation
group anyway (data/split.near_duplicate_groups). So a frame is kept only when its perceptual hash
differs in more than `NEAR_DUPLICATE_BITS` from every frame the burst kept, the data report's own
rule. Each frame kept is added as any photo is (`SavedDataset.add_photo`: checked, within the data
set's limits), a burst keeps at most `limits().burst_photos`, and it can be taken back whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from catbreed.data.images import ImageProblem, open_rgb, perceptual_hash
from catbreed.data.saved_datasets import SAME_PHOTO, SavedDataset
from catbreed.data.split import NEAR_DUPLICATE_BITS
from catbreed.errors import CatbreedError
from catbreed.limits import limits
from catbreed.messages import Message, message

HASH_SIDE = 64  # the hash reads a 64 px thumbnail: a JPEG frame decodes at a reduced scale for it


@dataclass
class Burst:
    """One hold of the button: which frames it kept (their names in the data set) and why others
    were not. `name` starts each photo's file name; the burst's own number follows it."""

    breed: str
    name: str
    kept: list[str] = field(default_factory=list)
    alike: int = 0  # frames left out as nearly the same as one kept
    stopped: Message | None = None  # why the burst keeps no more (its limit, the data set's)
    _hashes: list[int] = field(default_factory=list)

    def add(self, saved: SavedDataset, frames: Iterable[bytes]) -> None:
        """Keep those of `frames` that are new enough, in order, until a limit says stop."""
        most = limits().burst_photos
        for data in frames:
            if self.stopped is not None:
                return
            if len(self.kept) >= most:
                self.stopped = message("burst.full", n=most)
                return
            try:
                fingerprint = perceptual_hash(open_rgb(data, draft_size=HASH_SIDE))
            except ImageProblem as problem:
                self.stopped = message("saved.not_a_photo", name=self.name, reason=problem.reason)
                return
            hashes = np.array(self._hashes, dtype=np.uint64)
            if np.any(np.bitwise_count(hashes ^ np.uint64(fingerprint)) <= NEAR_DUPLICATE_BITS):
                self.alike += 1
                continue
            try:
                photo = saved.add_photo(self.breed, data, f"{self.name}-{len(self.kept) + 1:03d}")
            except CatbreedError as error:
                if error.message.code == SAME_PHOTO:  # kept already, by an earlier burst
                    self.alike += 1
                    continue
                self.stopped = error.message  # the data set is full, over its quota, or the breed went
                return
            self.kept.append(photo.name)
            self._hashes.append(fingerprint)

    def undo(self, saved: SavedDataset) -> int:
        """Take the burst's photos out of the data set again; how many were still there."""
        removed = saved.remove_photos(self.kept)
        self.kept, self._hashes = [], []
        return removed
