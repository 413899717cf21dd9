#!/usr/bin/env python3
"""Holds many connections to an HTTP/1.1 listener for the connection-hygiene tests (asyncio, one process):
--idle connections that send nothing, and --slow slowloris connections that send a request head one byte every
--interval seconds and never finish it. Prints {"event": "ready"} once every connection is open, then, after
--duration seconds, one JSON line: how many idle connections are still open, how many slow ones were answered
408, how many the server closed, and after how long (seconds, from each one's first byte)."""
import argparse, asyncio, json, resource, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--idle", type=int, default=0)
ap.add_argument("--slow", type=int, default=0)
ap.add_argument("--interval", type=float, default=1.0)
ap.add_argument("--duration", type=float, default=5.0)
args = ap.parse_args()

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def idle_connection(held):
    reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
    held.append((reader, writer))


async def slow_connection(results, ready):
    reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
    await ready.wait()
    head = b"GET /never HTTP/1.1\r\nHost: slow.test\r\nX-Slow: " + b"a" * 10_000
    started = time.monotonic()
    got = b""
    closed_after = None

    async def read_all():
        nonlocal got, closed_after
        while True:
            try:
                chunk = await reader.read(4096)
            except (ConnectionError, OSError):
                chunk = b""
            if not chunk:
                closed_after = time.monotonic() - started
                return
            got += chunk

    reading = asyncio.create_task(read_all())
    for i in range(len(head)):
        if reading.done():
            break
        try:
            writer.write(head[i:i + 1])
            await writer.drain()
        except (ConnectionError, OSError):
            break
        await asyncio.sleep(args.interval)
    try:
        await asyncio.wait_for(reading, timeout=max(0.1, args.duration))
    except asyncio.TimeoutError:
        pass
    results.append({"status408": got.startswith(b"HTTP/1.1 408"), "closed_after": closed_after})
    writer.close()


async def main():
    held, results = [], []
    ready = asyncio.Event()
    for start in range(0, args.idle, 500):
        await asyncio.gather(*(idle_connection(held) for _ in range(start, min(args.idle, start + 500))))
    slow = [asyncio.create_task(slow_connection(results, ready)) for _ in range(args.slow)]
    await asyncio.sleep(0.2)
    ready.set()
    print(json.dumps({"event": "ready", "idle": len(held)}), flush=True)
    await asyncio.sleep(args.duration)
    await asyncio.gather(*slow)
    # A connection the server closed reads EOF at once; an open one has nothing to read within the wait.
    async def is_open(reader):
        try:
            return await asyncio.wait_for(reader.read(65536), timeout=0.5) != b""
        except asyncio.TimeoutError:
            return True
        except (ConnectionError, OSError):
            return False
    still_open = sum(await asyncio.gather(*(is_open(r) for r, _ in held)))
    closed = [r["closed_after"] for r in results if r["closed_after"] is not None]
    print(json.dumps({"idle_opened": len(held), "idle_open_at_end": still_open,
                      "slow_408": sum(r["status408"] for r in results), "slow_closed": len(closed),
                      "slow_closed_after_max": max(closed) if closed else None}), flush=True)


asyncio.run(main())
