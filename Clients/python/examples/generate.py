#!/usr/bin/env python3
"""Render a storyboard with an imagegen server and follow the job's progress.

    python generate.py --server 127.0.0.1:7420 --project projects/demo storyboard.json
    python generate.py --server 127.0.0.1:7420 --watch JOB_ID --after-seq 17

Prints one line per style as it progresses (completed/total, percent, failures). Ctrl-C detaches
(the job keeps running on the server) and prints how to reattach. The auth token comes from
IMAGEGEN_AUTH_TOKEN. Exit status: 0 when the job completed, 1 when it failed, completed with errors
or was cancelled, 2 for a usage, storyboard or connection error, 130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Dict, List, Optional

from imagegen_client import Client, RpcError, StoryboardError, generation_pb2

JobState = generation_pb2.JobState
BeatEvent = generation_pb2.BeatEvent
KeyEvent = generation_pb2.KeyEvent


def style_line(progress: generation_pb2.StyleProgress) -> str:
    """``ink: 12/40 (30.0%), 1 failed, 3 in flight``."""
    line = f"{progress.style}: {progress.completed}/{progress.total} ({progress.percent:.1f}%)"
    if progress.failed:
        line += f", {progress.failed} failed"
    if progress.in_flight:
        line += f", {progress.in_flight} in flight"
    if progress.keys_cooling or progress.keys_disabled:
        line += f", keys: {progress.keys_cooling} cooling, {progress.keys_disabled} disabled of {progress.keys_total}"
    return line


class Follower:
    """Prints a job's events; remembers the job id and the last sequence number."""

    def __init__(self) -> None:
        self.job_id = ""
        self.last_seq = 0
        self.final_state: Optional[int] = None
        self.styles: Dict[str, generation_pb2.StyleProgress] = {}

    def show(self, event: generation_pb2.ProgressEvent) -> None:
        if event.job_id:
            self.job_id = event.job_id
        self.last_seq = max(self.last_seq, event.seq)
        kind = event.WhichOneof("kind")
        if kind == "accepted":
            verb = "attached to" if event.accepted.attached else "started"
            print(f"{verb} job {event.job_id}" + (f" ({event.accepted.resumed} beats already done)"
                                                  if event.accepted.resumed else ""), flush=True)
            for progress in event.accepted.styles:
                self.styles[progress.style] = progress
                print("  " + style_line(progress), flush=True)
        elif kind == "style":
            self.styles[event.style.style] = event.style
            print(style_line(event.style), flush=True)
        elif kind == "beat":
            beat = event.beat
            if beat.state == BeatEvent.FAILED:
                print(f"{beat.style}: beat {beat.shot_id}/{beat.beat_id} failed: {beat.error}", flush=True)
            elif beat.state == BeatEvent.RETRYING:
                print(f"{beat.style}: beat {beat.beat_id} retrying (attempt {beat.attempt}): {beat.error}", flush=True)
        elif kind == "key":
            key = event.key
            if key.state in (KeyEvent.EXHAUSTED, KeyEvent.DISABLED):
                state = KeyEvent.State.Name(key.state).lower()
                print(f"{key.style}: key {key.key_label} {state}: {key.reason}", flush=True)
        elif kind == "message":
            print(event.message, flush=True)
        elif kind == "finished":
            finished = event.finished
            self.final_state = finished.state
            print(f"job {event.job_id} {JobState.Name(finished.state).lower()}"
                  + (f": {finished.message}" if finished.message else ""), flush=True)
            for summary in finished.styles:
                line = (f"  {summary.style}: {summary.done}/{summary.total} done, {summary.failed} failed, "
                        f"{summary.skipped} skipped, {summary.duration_ms / 1000:.1f} s, "
                        f"{summary.usage.images} images / {summary.usage.requests} requests")
                if summary.error:
                    line += f" ({summary.error})"
                print(line, flush=True)

    def exit_code(self) -> int:
        """0 when the job completed; 1 when it failed, completed with errors, was cancelled or the
        stream ended before the job did."""
        if self.final_state is None:
            print("the stream ended before the job finished", file=sys.stderr)
            return 1
        return 0 if self.final_state == generation_pb2.COMPLETED else 1


def parse(argv: Optional[List[str]] = None, description: Optional[str] = __doc__) -> argparse.Namespace:
    """The command line (shared with generate_async.py)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="127.0.0.1:7420", help="HOST:PORT of the imagegen server")
    parser.add_argument("--project", help="project directory (relative to the server's projects root)")
    parser.add_argument("storyboard", nargs="?", help="storyboard JSON file (default: the project's storyboard.json)")
    parser.add_argument("--style", action="append", default=[], help="style to render (repeatable; default all)")
    parser.add_argument("--force", action="store_true", help="regenerate beats that are already done")
    parser.add_argument("--max-concurrency", type=int, default=0, help="requests in flight per style")
    parser.add_argument("--watch", metavar="JOB_ID", help="follow a running job instead of starting one")
    parser.add_argument("--after-seq", type=int, default=0, help="with --watch: replay events after this seq")
    args = parser.parse_args(argv)
    if not args.watch and not args.project:
        parser.error("give --project (to start a job) or --watch JOB_ID")
    return args


def follower_for(args: argparse.Namespace) -> Follower:
    follower = Follower()
    if args.watch:
        follower.job_id = args.watch
        follower.last_seq = args.after_seq
    return follower


def report(error: BaseException, follower: Follower, args: argparse.Namespace) -> Optional[int]:
    """Prints what went wrong and returns the exit status; None for an error it does not know."""
    reattach = (f"{sys.argv[0]} --server {args.server} --watch {follower.job_id} "
                f"--after-seq {follower.last_seq}")
    if isinstance(error, StoryboardError):
        print(f"invalid storyboard: {error}", file=sys.stderr)
        return 2
    if isinstance(error, (RpcError, ValueError)):
        print(f"error: {error}", file=sys.stderr)
        if follower.job_id:
            print(f"reattach: {reattach}", file=sys.stderr)
        return 2
    if isinstance(error, KeyboardInterrupt):  # the call was cancelled on the way out: we only detach
        if follower.job_id:
            print(f"\ndetached; job {follower.job_id} keeps running on the server. Reattach with:\n"
                  f"  {reattach}", file=sys.stderr)
        else:
            print("\ndetached before the server accepted the job", file=sys.stderr)
        return 130
    return None


def follow(client: Client, args: argparse.Namespace, follower: Follower) -> None:
    if args.watch:
        stream = client.watch(args.watch, after_seq=args.after_seq)
    else:
        stream = client.start_generation(
            args.project, args.storyboard, styles=args.style, force=args.force,
            max_concurrency=args.max_concurrency)
    with stream:  # leaving it (Ctrl-C too) cancels the call: the job goes on
        for event in stream:
            follower.show(event)


def run(argv: Optional[List[str]], follow: Callable[[argparse.Namespace, Follower], None],
        description: Optional[str] = __doc__) -> int:
    """Parses the command line, follows the job with ``follow`` and returns the exit status
    (shared with generate_async.py)."""
    args = parse(argv, description)
    follower = follower_for(args)
    try:
        follow(args, follower)
    except (RpcError, ValueError, KeyboardInterrupt) as error:  # StoryboardError is a ValueError
        code = report(error, follower, args)
        assert code is not None
        return code
    return follower.exit_code()


def follow_with_client(args: argparse.Namespace, follower: Follower) -> None:
    with Client.from_address(args.server) as client:
        follow(client, args, follower)


def main(argv: Optional[List[str]] = None) -> int:
    return run(argv, follow_with_client)


if __name__ == "__main__":
    sys.exit(main())
