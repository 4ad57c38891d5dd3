#!/usr/bin/env python3
"""Times a district platform's restart after a SIGKILL: from spawning
`feeledger serve --platform DIR` to (a) its serving line, (b) the first 200
on the last ledger's /checkpoint. Usage: restart_platform.py EXE DIR RUNS"""
import os, signal, subprocess, sys, time, urllib.request, statistics

exe, platform, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
slugs = sorted(os.listdir(os.path.join(platform, "ledgers")))
last = slugs[-1]
serving, readable = [], []
for i in range(runs + 1):
    t0 = time.monotonic()
    p = subprocess.Popen([exe, "serve", "--platform", platform, "--listen", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    t_line = time.monotonic() - t0
    url = line.split("http://")[1].strip().rstrip("/")
    while True:
        try:
            with urllib.request.urlopen(f"http://{url}/c/{last}/checkpoint", timeout=5) as r:
                if r.status == 200:
                    break
        except Exception:
            pass
        time.sleep(0.001)
    t_read = time.monotonic() - t0
    # A crash, not a clean stop: the next start recovers sled from its log.
    p.send_signal(signal.SIGKILL)
    p.wait()
    if i == 0:
        continue  # the first start after building is not a restart after a crash
    serving.append(t_line); readable.append(t_read)
    print(f"run {i}: serving line {t_line*1000:.0f} ms, /c/{last}/checkpoint 200 at {t_read*1000:.0f} ms", flush=True)
print(f"ledgers {len(slugs)}; median serving line {statistics.median(serving)*1000:.0f} ms (max {max(serving)*1000:.0f}); "
      f"median first read of the last ledger {statistics.median(readable)*1000:.0f} ms (max {max(readable)*1000:.0f})")
