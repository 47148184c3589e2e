#!/usr/bin/env python3
"""generate.py with the asyncio client: render a storyboard and follow the job's progress.

    python generate_async.py --server 127.0.0.1:7420 --project projects/demo storyboard.json
    python generate_async.py --server 127.0.0.1:7420 --watch JOB_ID --after-seq 17

The same options, output and exit status as generate.py (it reuses its printing); the events come
from ``async for`` over :class:`imagegen_client.AsyncClient`. Ctrl-C cancels the task, which
cancels the call: the job keeps running on the server.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))  # generate.py beside this file

from generate import Follower, run  # noqa: E402
from imagegen_client import AsyncClient  # noqa: E402


async def follow(args: argparse.Namespace, follower: Follower) -> None:
    async with AsyncClient.from_address(args.server) as client:
        if args.watch:
            stream = client.watch(args.watch, after_seq=args.after_seq)
        else:
            stream = client.start_generation(
                args.project, args.storyboard, styles=args.style, force=args.force,
                max_concurrency=args.max_concurrency)
        async for event in stream:  # a cancelled task cancels the call
            follower.show(event)


def main(argv: Optional[List[str]] = None) -> int:
    return run(argv, lambda args, follower: asyncio.run(follow(args, follower)), __doc__)


if __name__ == "__main__":
    sys.exit(main())
