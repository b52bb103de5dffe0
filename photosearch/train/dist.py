"""torchrun plumbing for the trainer: rank, world size, and collectives that are no-ops in a single process."""

from __future__ import annotations

import math
import os


class Dist:
    """What the loop needs to know about torchrun: rank, world size, and collectives that are no-ops alone."""

    def __init__(self, device_spec: str):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank, self.local_rank, self.created = 0, 0, False
        self.device_spec = device_spec  # the device this process trains on (one GPU per rank under torchrun)
        if self.world <= 1:
            self.world = 1
            return
        import torch
        import torch.distributed as dist

        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        use_cuda = torch.cuda.is_available() and (device_spec or "auto").split(":")[0] in ("auto", "cuda")
        if not dist.is_initialized():
            dist.init_process_group("nccl" if use_cuda else "gloo")
            self.created = True
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.device_spec = f"cuda:{self.local_rank}" if use_cuda else "cpu"

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()

    def broadcast(self, obj):
        if self.world == 1:
            return obj
        import torch.distributed as dist

        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, obj) -> list:
        if self.world == 1:
            return [obj]
        import torch.distributed as dist

        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def all_finite(self, value: float, device) -> bool:
        """Every rank must agree to stop, or the others would wait forever in the next all-reduce."""
        ok = math.isfinite(value)
        if self.world == 1:
            return ok
        import torch
        import torch.distributed as dist

        t = torch.tensor([0.0 if ok else 1.0], device=device)
        dist.all_reduce(t)
        return t.item() == 0.0

    def sync_buffers(self, model) -> None:
        """DDP broadcasts BatchNorm statistics at the start of each forward only: after the last step each
        rank holds its own. Take rank 0's, so every rank ends with the weights that are saved."""
        if self.world == 1:
            return
        import torch.distributed as dist

        for b in model.buffers():
            dist.broadcast(b.data, src=0)

    def close(self) -> None:
        if self.created:
            import torch.distributed as dist

            dist.destroy_process_group()
