#!/usr/bin/env python3
"""Times `feeledger serve --data DIR` after a SIGKILL: spawn to its serving
line and to the first 200 on /checkpoint. Usage: restart_single.py EXE DIR RUNS"""
import signal, subprocess, sys, time, urllib.request, statistics
exe, data, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
line_ms, read_ms = [], []
for i in range(runs + 1):
    t0 = time.monotonic()
    p = subprocess.Popen([exe, "serve", "--data", data, "--listen", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline(); t_line = time.monotonic() - t0
    url = line.split("http://")[1].strip().rstrip("/")
    while True:
        try:
            with urllib.request.urlopen(f"http://{url}/checkpoint", timeout=5) as r:
                if r.status == 200: break
        except Exception: pass
        time.sleep(0.001)
    t_read = time.monotonic() - t0
    time.sleep(1)  # the background audit is running when the kill comes
    p.send_signal(signal.SIGKILL); p.wait()
    if i == 0: continue
    line_ms.append(t_line * 1000); read_ms.append(t_read * 1000)
    print(f"run {i}: serving line {t_line*1000:.0f} ms, /checkpoint 200 at {t_read*1000:.0f} ms", flush=True)
print(f"median serving line {statistics.median(line_ms):.0f} ms (max {max(line_ms):.0f}); median first read {statistics.median(read_ms):.0f} ms (max {max(read_ms):.0f})")
