// How much CPU the rest of the machine used while a figure was taken: all
// CPUs' busy time (/proc/stat) less the bench's own process and workerd's.
// Anything well above 0 means the figure was measured on a shared machine.
// Linux only; elsewhere the answer is null.
import { existsSync, readFileSync } from "node:fs";

function totalBusyTicks() {
  const [, ...fields] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return user + nice + system + irq + softirq + steal;
}

function processTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Starts a measurement; `stop()` answers the share of one core used elsewhere, e.g. 0.35. */
export function watchOtherCpu(pids) {
  const sample = () => {
    try {
      return { at: process.hrtime.bigint(), total: totalBusyTicks(), own: pids().reduce((sum, pid) => sum + processTicks(pid), 0) };
    } catch {
      return null;
    }
  };
  const start = sample();
  return {
    stop() {
      const end = sample();
      if (!start || !end) return null;
      const seconds = Number(end.at - start.at) / 1e9;
      const ticksPerSecond = 100; // USER_HZ on Linux
      const other = end.total - start.total - (end.own - start.own);
      return Math.max(0, Math.round((other / ticksPerSecond / seconds) * 100) / 100);
    },
  };
}

/** Starts a measurement; `stop()` answers the CPU time the process used meanwhile, in µs (null off Linux). */
export function watchProcessCpu(pid) {
  if (!existsSync(`/proc/${pid}/stat`)) return { stop: () => null };
  const start = processTicks(pid);
  return { stop: () => ((processTicks(pid) - start) * 1e6) / 100 }; // USER_HZ ticks
}

/**
 * Waits, at most `maxSeconds`, until the rest of the machine uses less than
 * `quietCores` over a 2 s window; answers the last reading (null off Linux).
 */
export async function waitForQuiet({ pids, maxSeconds, quietCores = 0.15, log = () => {} }) {
  const deadline = Date.now() + maxSeconds * 1000;
  while (true) {
    const watch = watchOtherCpu(pids);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const busy = watch.stop();
    if (busy === null || busy < quietCores || Date.now() >= deadline) return busy;
    log(`  the machine is busy elsewhere (${busy.toFixed(2)} cores); waiting for it to be quiet`);
  }
}
